package events

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type schemaField struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Ref      string   `json:"ref"`
	Enum     []string `json:"enum"`
	Items    *struct {
		Type string `json:"type"`
		Ref  string `json:"ref"`
	} `json:"items"`
	AdditionalProperties *struct{} `json:"additionalProperties"`
}

type schemaDoc struct {
	Endpoints []struct {
		Path, Permission, RequestBody string
	} `json:"endpoints"`
	RequestBodies map[string]struct {
		Endpoint   string `json:"endpoint"`
		Properties []struct {
			Name  string `json:"name"`
			Items struct {
				Ref string `json:"ref"`
			} `json:"items"`
		} `json:"properties"`
	} `json:"requestBodies"`
	Models map[string]struct {
		Category      string        `json:"category"`
		Fields        []schemaField `json:"fields"`
		BatchProperty string        `json:"batchProperty"`
		Endpoint      string        `json:"endpoint"`
	} `json:"models"`
}

func loadSchema(t *testing.T) schemaDoc {
	t.Helper()
	raw, err := os.ReadFile("testdata/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var d schemaDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func wantKind(f schemaField) Kind {
	switch f.Type {
	case "string":
		return KindString
	case "uuid":
		return KindUUID
	case "date-time":
		return KindDateTime
	case "boolean":
		return KindBool
	case "integer":
		return KindInt
	case "object":
		if f.AdditionalProperties != nil {
			return KindStringMap
		}
		return KindObject
	case "array":
		switch f.Items.Type {
		case "uuid":
			return KindUUIDArray
		case "string":
			return KindStringArray
		}
		return KindObjectArray
	}
	return 255
}

// structTags returns the JSON names of a struct type's fields.
func structTags(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		names = append(names, strings.Split(tag, ",")[0])
	}
	return names
}

func checkFields(t *testing.T, model string, got []Field, want []schemaField, goType reflect.Type) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d fields in metadata, %d in schema", model, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		ref := w.Ref
		if w.Items != nil && w.Items.Ref != "" {
			ref = w.Items.Ref
		}
		if g.Name != w.Name || g.Kind != wantKind(w) || g.Required != w.Required || !slices.Equal(g.Enum, w.Enum) || g.Ref != ref {
			t.Errorf("%s.%s: got %+v, want %+v", model, w.Name, g, w)
		}
	}
	names := structTags(goType)
	var wantNames []string
	for _, w := range want {
		wantNames = append(wantNames, w.Name)
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("%s struct JSON names: got %v, want %v", model, names, wantNames)
	}
}

// TestSchemaMatches proves the generated model equals schema.json both ways:
// every schema type, field, required flag and enum is in the Go model, and
// the Go model has nothing the schema lacks.
func TestSchemaMatches(t *testing.T) {
	d := loadSchema(t)
	var schemaEvents []string
	for name, m := range d.Models {
		if m.Category == "event" {
			schemaEvents = append(schemaEvents, name)
		}
	}
	if len(schemaEvents) != NumTypes || NumTypes != 34 {
		t.Fatalf("schema has %d event types, model %d", len(schemaEvents), NumTypes)
	}
	for _, name := range schemaEvents {
		t.Run(name, func(t *testing.T) {
			m := d.Models[name]
			typ, err := ParseType(name)
			if err != nil {
				t.Fatal(err)
			}
			if typ.String() != name || typ.BatchProperty() != m.BatchProperty || typ.Endpoint().Path() != m.Endpoint {
				t.Errorf("got %s/%s/%s, want %s/%s/%s", typ, typ.BatchProperty(), typ.Endpoint().Path(), name, m.BatchProperty, m.Endpoint)
			}
			p := New(typ)
			if p.EventType() != typ {
				t.Errorf("New(%v).EventType() = %v", typ, p.EventType())
			}
			checkFields(t, name, typ.Fields(), m.Fields, reflect.TypeOf(p).Elem())
		})
	}
	for _, name := range []string{"InitialConfiguration", "SourceConfiguration", "AudioState", "EmailInitialConfiguration"} {
		fs, ok := EmbeddedFields(name)
		if !ok {
			t.Fatalf("no embedded model %s", name)
		}
		var goType reflect.Type
		switch name {
		case "InitialConfiguration":
			goType = reflect.TypeOf(InitialConfiguration{})
		case "SourceConfiguration":
			goType = reflect.TypeOf(SourceConfiguration{})
		case "AudioState":
			goType = reflect.TypeOf(AudioState{})
		case "EmailInitialConfiguration":
			goType = reflect.TypeOf(EmailInitialConfiguration{})
		}
		checkFields(t, name, fs, d.Models[name].Fields, goType)
	}
	for name, f := range map[string]reflect.Type{
		"BatchEventResponse": reflect.TypeOf(BatchEventResponse{}),
		"EventError":         reflect.TypeOf(EventError{}),
	} {
		var want []string
		for _, sf := range d.Models[name].Fields {
			want = append(want, sf.Name)
		}
		if got := structTags(f); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	// Endpoints and batch bodies.
	for _, ep := range d.Endpoints {
		e, ok := EndpointForPath(ep.Path)
		if !ok || e.Permission() != ep.Permission || e.BodyModel() != ep.RequestBody {
			t.Errorf("endpoint %s: got %v %s %s", ep.Path, ok, e.Permission(), e.BodyModel())
		}
		for _, prop := range d.RequestBodies[ep.RequestBody].Properties {
			typ, ok := TypeForProperty(prop.Name)
			if !ok || typ.String() != prop.Items.Ref || typ.Endpoint() != e {
				t.Errorf("%s.%s: got %v %v", ep.RequestBody, prop.Name, typ, ok)
			}
		}
	}
}
