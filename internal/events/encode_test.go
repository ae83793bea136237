package events

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fill sets every field of the struct v points to, using i to vary values.
func fill(v reflect.Value, i int) {
	v = v.Elem()
	for f := 0; f < v.NumField(); f++ {
		fv := v.Field(f)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString("v\"al\\ue\n\u2028é" + string(rune('a'+f)))
		case reflect.Pointer:
			if fv.Type().Elem().Kind() == reflect.Bool {
				b := (i+f)%2 == 0
				fv.Set(reflect.ValueOf(&b))
			} else {
				n := reflect.New(fv.Type().Elem())
				fill(n, i+f)
				fv.Set(n)
			}
		case reflect.Slice:
			fv.Set(reflect.ValueOf([]string{"x", "y<z>"}))
		case reflect.Map:
			fv.Set(reflect.ValueOf(map[string]string{"b": "2", "a": "1"}))
		case reflect.Struct:
			fv.Set(reflect.ValueOf(time.Date(2025, 3, 10, 14, 3, 7, 123e6, time.UTC)))
		}
	}
}

func TestAppendJSONRoundTrip(t *testing.T) {
	for _, typ := range Types() {
		t.Run(typ.String(), func(t *testing.T) {
			p := New(typ)
			fill(reflect.ValueOf(p), int(typ))
			js := p.AppendJSON(nil)
			if !json.Valid(js) {
				t.Fatalf("invalid JSON: %s", js)
			}
			back := New(typ)
			if err := json.Unmarshal(js, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, back) {
				t.Errorf("round trip:\n got %+v\nwant %+v", back, p)
			}
			// An empty event encodes as an empty object.
			if got := string(New(typ).AppendJSON(nil)); got != "{}" {
				t.Errorf("empty: got %s, want {}", got)
			}
		})
	}
}

func TestAppendBatch(t *testing.T) {
	var enc Encoder
	mk := func(typ Type, id string) Event {
		p := New(typ)
		reflect.ValueOf(p).Elem().FieldByName("EventID").SetString(id)
		return enc.Encode(p)
	}
	evs := []Event{
		mk(TypeExternalEstablished, "1"),
		mk(TypeRoutingEstablished, "2"),
		mk(TypeExternalEstablished, "3"),
	}
	got := string(AppendBatch(nil, Conversations, evs))
	want := `{"externalEstablishedEvents":[{"eventId":"1"},{"eventId":"3"}],"routingEstablishedEvents":[{"eventId":"2"}]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	raws, err := SplitBatch(Conversations, []byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) != 3 || raws[1].Type != TypeExternalEstablished || string(raws[2].JSON) != `{"eventId":"2"}` {
		t.Errorf("split: got %+v", raws)
	}
	if _, err := SplitBatch(Presence, []byte(got)); err == nil {
		t.Error("split of a conversations body as presence: want an error")
	}
}

func BenchmarkEncode(b *testing.B) {
	tru := true
	e := &UserEstablishedEvent{
		EventID: "0b6f2d4e-8a1c-4f3e-9d27-4c5a8e1b7f60", EventDateTime: time.Now(),
		ConversationID: "6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b13", CommunicationID: "a3e5c9d1-7b2f-4c6e-8a14-2f9b6d0c7e51",
		UserID: "f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36", Ani: "+13175550123", Dnis: "+18005550199",
		AfterCallWorkRequired: &tru,
		InitialConfiguration:  &InitialConfiguration{Alerting: &tru, Inbound: &tru, InvitedBy: "c94a0f6b-2e1d-4b7c-9f35-6a8e1b3d0c22"},
		SourceConfiguration:   &SourceConfiguration{SourceID: "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08", InteractionID: "ACME-PBX-88412093"},
	}
	var enc Encoder
	b.ReportAllocs()
	for b.Loop() {
		ev := enc.Encode(e)
		b.SetBytes(int64(len(ev.JSON)))
	}
}
