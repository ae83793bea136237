package mock

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/loadgen/loadgen/internal/events"
)

func newTestValidator(t testing.TB) *validator {
	t.Helper()
	tab, err := compileTables()
	if err != nil {
		t.Fatal(err)
	}
	return newValidator(tab, false)
}

// TestSamplesMatchModel proves the test samples are right independently of
// the validator: they decode into the generated structs with every
// required field set.
func TestSamplesMatchModel(t *testing.T) {
	for _, typ := range events.Types() {
		js := appendSample(nil, typ.Fields(), 1, false)
		p := events.New(typ)
		dec := json.NewDecoder(strings.NewReader(string(js)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			t.Errorf("%s: sample does not match the model: %v", typ, err)
		}
		if back := p.AppendJSON(nil); len(back) < len(js)/2 {
			t.Errorf("%s: re-encoded sample lost fields: %s", typ, back)
		}
	}
}

// TestValidateEveryType covers, for each of the 34 types, a valid event
// (full and required-only) and invalid ones: a required field missing, a
// bad enum value, a bad UUID, a bad date-time, a wrong JSON type, an
// unknown field.
func TestValidateEveryType(t *testing.T) {
	v := newTestValidator(t)
	check := func(t *testing.T, typ events.Type, ev any, want string) {
		t.Helper()
		body := batchOf(typ, ev)
		if err := v.run(typ.Endpoint(), []byte(body)); err != nil {
			t.Fatalf("run: %v", err)
		}
		if len(v.recs) != 1 {
			t.Fatalf("%d records, want 1", len(v.recs))
		}
		got := v.recs[0].problem
		switch {
		case want == "" && got != "":
			t.Errorf("valid event rejected: %s\n%s", got, body)
		case want != "" && !strings.Contains(got, want):
			t.Errorf("problem %q, want it to contain %q\n%s", got, want, body)
		}
	}
	for _, typ := range events.Types() {
		prop := typ.BatchProperty() + "[0]."
		t.Run(typ.String(), func(t *testing.T) {
			t.Run("valid", func(t *testing.T) { check(t, typ, sampleEvent(typ, 3), "") })
			t.Run("requiredOnly", func(t *testing.T) {
				check(t, typ, json.RawMessage(appendSample(nil, typ.Fields(), 4, true)), "")
			})
			for _, f := range typ.Fields() {
				if f.Required {
					t.Run("missing "+f.Name, func(t *testing.T) {
						ev := sampleEvent(typ, 5)
						delete(ev, f.Name)
						check(t, typ, ev, prop+f.Name+": required field missing")
					})
				}
				switch {
				case f.Enum != nil:
					t.Run("enum "+f.Name, func(t *testing.T) {
						ev := sampleEvent(typ, 6)
						ev[f.Name] = strings.ToLower(f.Enum[0]) // case matters
						check(t, typ, ev, prop+f.Name+": \""+strings.ToLower(f.Enum[0])+"\" is not one of "+f.Enum[0])
					})
				case f.Kind == events.KindUUID:
					t.Run("uuid "+f.Name, func(t *testing.T) {
						ev := sampleEvent(typ, 7)
						ev[f.Name] = "6f1c2b7e3d4a4e8b9c215a7d0e4f9b13" // no hyphens
						check(t, typ, ev, prop+f.Name+": \"6f1c2b7e3d4a4e8b9c215a7d0e4f9b13\" is not a UUID")
					})
				case f.Kind == events.KindDateTime:
					t.Run("datetime "+f.Name, func(t *testing.T) {
						ev := sampleEvent(typ, 8)
						ev[f.Name] = "2025-03-10T14:03:07.120+01:00"
						check(t, typ, ev, prop+f.Name+": \"2025-03-10T14:03:07.120+01:00\" is not an ISO-8601 UTC date-time")
					})
				case f.Kind == events.KindObject:
					t.Run("type "+f.Name, func(t *testing.T) {
						ev := sampleEvent(typ, 9)
						ev[f.Name] = []int{1}
						check(t, typ, ev, prop+f.Name+": want an object, got an array")
					})
				}
			}
			t.Run("unknown field", func(t *testing.T) {
				ev := sampleEvent(typ, 10)
				ev["eventID"] = "x"
				check(t, typ, ev, prop+"eventID: unknown field")
			})
		})
	}
}

func TestValidateMessages(t *testing.T) {
	v := newTestValidator(t)
	user := func(edit func(map[string]any)) any {
		ev := sampleEvent(events.TypeUserEstablished, 1)
		edit(ev)
		return ev
	}
	for _, tc := range []struct {
		name string
		ev   any
		want string
	}{
		{"spec example", user(func(m map[string]any) { delete(m, "initialConfiguration") }),
			"userEstablishedEvents[0].initialConfiguration: required field missing"},
		{"nested required", user(func(m map[string]any) { delete(m["sourceConfiguration"].(map[string]any), "interactionId") }),
			"userEstablishedEvents[0].sourceConfiguration.interactionId: required field missing"},
		{"nested uuid", user(func(m map[string]any) { m["initialConfiguration"].(map[string]any)["invitedBy"] = "nope" }),
			`userEstablishedEvents[0].initialConfiguration.invitedBy: "nope" is not a UUID`},
		{"nested bool", user(func(m map[string]any) {
			m["initialConfiguration"].(map[string]any)["audioState"] = map[string]any{"canHear": "yes"}
		}), "userEstablishedEvents[0].initialConfiguration.audioState.canHear: want true or false, got a string"},
		{"null required", user(func(m map[string]any) { m["userId"] = nil }),
			"userEstablishedEvents[0].userId: required field is null"},
		{"empty required string", user(func(m map[string]any) { m["sourceConfiguration"].(map[string]any)["interactionId"] = "" }),
			"sourceConfiguration.interactionId: required field is empty"},
		{"string map value", user(func(m map[string]any) {
			m["initialConfiguration"].(map[string]any)["additionalInfo"] = map[string]any{"n": 1}
		}),
			"initialConfiguration.additionalInfo.n: want a string, got a number"},
		{"number for string", user(func(m map[string]any) { m["ani"] = 13175550123 }),
			"userEstablishedEvents[0].ani: want a string, got a number"},
		{"several problems joined", user(func(m map[string]any) { delete(m, "userId"); m["eventDateTime"] = "yesterday" }),
			`eventDateTime: "yesterday" is not an ISO-8601 UTC date-time (want yyyy-MM-ddTHH:mm:ss[.fff]Z); userEstablishedEvents[0].userId: required field missing`},
		{"empty object", map[string]any{}, "; and "},
		{"uuid array", func() any {
			ev := sampleEvent(events.TypeRoutingEstablished, 1)
			ev["skillIds"] = []string{testUUID(1, 1), "bad"}
			return ev
		}(), `routingEstablishedEvents[0].skillIds[1]: "bad" is not a UUID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ := events.TypeUserEstablished
			if strings.Contains(tc.name, "uuid array") {
				typ = events.TypeRoutingEstablished
			}
			if err := v.run(events.Conversations, []byte(batchOf(typ, tc.ev))); err != nil {
				t.Fatal(err)
			}
			if got := v.recs[0].problem; !strings.Contains(got, tc.want) {
				t.Errorf("got %q\nwant it to contain %q", got, tc.want)
			}
		})
	}
}

func TestValidateDuplicateField(t *testing.T) {
	v := newTestValidator(t)
	body := `{"userRoutingStatusEvents":[{"eventId":"3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57","eventDateTime":"2025-03-10T14:03:52.300Z",
	"agentId":"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36","status":"Idle","status":"Busy","sourceId":"e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"}]}`
	if err := v.run(events.RoutingStatus, []byte(body)); err != nil {
		t.Fatal(err)
	}
	if got, want := v.recs[0].problem, "userRoutingStatusEvents[0].status: duplicate field"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValidateEscapesAndCase(t *testing.T) {
	v := newTestValidator(t)
	// An escaped enum value and an upper-case UUID are both fine; the
	// eventId comes back decoded.
	body := `{"userRoutingStatusEvents":[{"eventId":"3F8E1A6C-7D2B-4C95-A0E4-6B1D9F3C2A5\u0037","eventDateTime":"2025-03-10T14:03:52Z",
	"agentId":"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36","status":"\u0049dle","sourceId":"e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"}]}`
	if err := v.run(events.RoutingStatus, []byte(body)); err != nil {
		t.Fatal(err)
	}
	r := v.recs[0]
	if r.problem != "" {
		t.Fatalf("problem %q", r.problem)
	}
	if got, want := string(r.eventID), "3F8E1A6C-7D2B-4C95-A0E4-6B1D9F3C2A57"; got != want {
		t.Errorf("eventID %q, want %q", got, want)
	}
	if got, want := r.id.String(), "3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57"; got != want {
		t.Errorf("id %s, want %s", got, want)
	}
}

func TestValidDateTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"2025-03-10T14:03:07.120Z", true},
		{"2025-03-10T14:03:07Z", true},
		{"2025-03-10T14:03:07.123456789Z", true},
		{"2024-02-29T00:00:00Z", true},
		{"2025-02-29T00:00:00Z", false}, // not a leap year
		{"2025-04-31T00:00:00Z", false},
		{"2025-13-01T00:00:00Z", false},
		{"2025-03-10T24:00:00Z", false},
		{"2025-03-10T14:60:00Z", false},
		{"2025-03-10T14:03:60Z", false},
		{"2025-03-10T14:03:07.Z", false},
		{"2025-03-10T14:03:07.1234567890Z", false},
		{"2025-03-10T14:03:07", false},
		{"2025-03-10T14:03:07+00:00", false},
		{"2025-03-10 14:03:07Z", false},
		{"2025-03-10t14:03:07z", false},
		{"25-03-10T14:03:07Z", false},
		{"", false},
	} {
		if got := validDateTime([]byte(tc.in)); got != tc.want {
			t.Errorf("validDateTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseUUID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b13", true},
		{"6F1C2B7E-3D4A-4E8B-9C21-5A7D0E4F9B13", true},
		{"6f1c2b7e3d4a4e8b9c215a7d0e4f9b13", false},
		{"{6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b13}", false},
		{"6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b1g", false},
		{"6f1c2b7e-3d4a-4e8b-9c21_5a7d0e4f9b13", false},
		{"", false},
	} {
		u, ok := parseUUID([]byte(tc.in))
		if ok != tc.want {
			t.Errorf("parseUUID(%q) ok = %v, want %v", tc.in, ok, tc.want)
		}
		if ok && u.String() != strings.ToLower(tc.in) {
			t.Errorf("parseUUID(%q) = %s", tc.in, u)
		}
	}
}

func TestValidateWholeBody(t *testing.T) {
	v := newTestValidator(t)
	hundred := make([]any, 101)
	for i := range hundred {
		hundred[i] = sampleEvent(events.TypeUserPresence, i)
	}
	for _, tc := range []struct {
		name string
		ep   events.Endpoint
		body string
		want error
		msg  string
	}{
		{"not an object", events.Presence, `[]`, errBody, "want a JSON object"},
		{"empty body", events.Presence, ``, errSyntax, "line 1, column 1"},
		{"truncated", events.Presence, `{"userPresenceEvents":[{"eventId":`, errSyntax, "unexpected end"},
		{"trailing data", events.Presence, `{} {}`, errSyntax, "data after"},
		{"bad literal", events.Presence, `{"userPresenceEvents":nul}`, errSyntax, "literal"},
		{"line and column", events.Presence, "{\n  \"userPresenceEvents\": [\n    {\"eventId\": 01}]}", errSyntax, "line 3"},
		{"control char", events.Presence, "{\"userPresenceEvents\":[{\"message\":\"a\tb\"}]}", errSyntax, "control character"},
		{"bad utf8", events.Presence, "{\"userPresenceEvents\":[{\"message\":\"\xff\"}]}", errSyntax, "UTF-8"},
		{"other endpoint's array", events.Presence, `{"userRoutingStatusEvents":[]}`, errBody, `"userRoutingStatusEvents" is not an event array of presence`},
		{"unknown property", events.Conversations, `{"chatEvents":[]}`, errBody, "chatEvents"},
		{"array twice", events.Presence, `{"userPresenceEvents":[],"userPresenceEvents":[]}`, errBody, "twice"},
		{"not an array", events.Presence, `{"userPresenceEvents":{}}`, errBody, "want an array"},
		{"element not an object", events.Presence, `{"userPresenceEvents":["x"]}`, errBody, "userPresenceEvents[0]: want a UserPresenceEvent object"},
		{"too many", events.Presence, batchOf(events.TypeUserPresence, hundred...), errTooManyEvents, "more than 100"},
		{"deep nesting", events.Presence, `{"userPresenceEvents":[{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}]}`, errBody, "nested"},
		{"empty is fine", events.Presence, `{}`, nil, ""},
		{"null array is fine", events.Presence, ` {"userPresenceEvents" : null } `, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.run(tc.ep, []byte(tc.body))
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err %q, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestValidateUnknownFieldsAllowed(t *testing.T) {
	tab, err := compileTables()
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(tab, true)
	ev := sampleEvent(events.TypeUserPresence, 1)
	ev["extra"] = map[string]any{"deep": []any{1, "x", nil}}
	if err := v.run(events.Presence, []byte(batchOf(events.TypeUserPresence, ev))); err != nil {
		t.Fatal(err)
	}
	if v.recs[0].problem != "" || v.unknown != 1 {
		t.Errorf("problem %q, unknown %d; want none and 1", v.recs[0].problem, v.unknown)
	}
}

// FuzzValidate checks that no body panics the scanner, that its verdict is
// stable, and that it agrees with encoding/json on what is valid JSON.
func FuzzValidate(f *testing.F) {
	for _, name := range []string{"readme-conversations.json", "readme-presence.json", "readme-routingstatus.json"} {
		f.Add(uint8(0), []byte(readTestdata(f, name)))
	}
	f.Add(uint8(0), benchBody(0))
	f.Add(uint8(1), []byte(`{"userPresenceEvents":[{"eventId":"\ud83d\ude00","message":"\u00e9\"\\"}]}`))
	f.Add(uint8(2), []byte(`{"userRoutingStatusEvents":[{"status":1e5,"agentId":-0.5,"x":[true,false,null,{}]}]}`))
	tab, err := compileTables()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, epn uint8, body []byte) {
		ep := events.Endpoint(epn % events.NumEndpoints)
		v := newValidator(tab, epn&4 != 0)
		err1 := v.run(ep, body)
		verdict := func() []string {
			var out []string
			for _, r := range v.recs {
				out = append(out, string(r.eventID)+"|"+r.problem)
			}
			return out
		}
		first := verdict()
		err2 := v.run(ep, body)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("unstable error: %v then %v", err1, err2)
		}
		if second := verdict(); err1 == nil && strings.Join(first, "\n") != strings.Join(second, "\n") {
			t.Fatalf("unstable verdict:\n%v\n%v", first, second)
		}
		valid := json.Valid(body)
		switch {
		case err1 == nil && !valid:
			t.Fatalf("accepted invalid JSON %q", body)
		case errors.Is(err1, errSyntax) && valid && utf8.Valid(body):
			t.Fatalf("syntax error %v on valid JSON %q", err1, body)
		case err1 == nil && len(v.recs) > events.MaxEventsPerRequest:
			t.Fatalf("%d events accepted", len(v.recs))
		}
		if err1 != nil {
			return
		}
		// The batch splits the same way in package events, and every event
		// the scanner calls valid decodes into its generated struct.
		raws, err := events.SplitBatch(ep, body)
		if err != nil || len(raws) != len(v.recs) {
			t.Fatalf("SplitBatch: %d events, %v; scanner: %d events", len(raws), err, len(v.recs))
		}
		for i, r := range v.recs {
			if r.typ != raws[i].Type {
				t.Fatalf("event %d: type %s, SplitBatch says %s", i, r.typ, raws[i].Type)
			}
			if r.problem != "" {
				continue
			}
			if !r.hasID {
				t.Fatalf("valid event without eventId in %q", body)
			}
			if err := json.Unmarshal(raws[i].JSON, events.New(r.typ)); err != nil {
				t.Fatalf("valid %s does not decode: %v\n%s", r.typ, err, raws[i].JSON)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	body := benchBody(0)
	v := newTestValidator(b)
	if err := v.run(events.Conversations, body); err != nil || len(v.recs) != 100 {
		b.Fatalf("bench body: %v, %d events", err, len(v.recs))
	}
	for _, r := range v.recs {
		if r.problem != "" {
			b.Fatalf("bench body invalid: %s", r.problem)
		}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.run(events.Conversations, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "events/s")
}

// TestValidateOtherKinds covers the field kinds the schema defines but no
// current event uses (integers, arrays of objects), with a hand-built model.
func TestValidateOtherKinds(t *testing.T) {
	item := &model{name: "Item", fields: []field{{name: "id", kind: events.KindUUID, required: true, bit: 1}}, required: 1}
	m := &model{name: "Synthetic", fields: []field{
		{name: "count", kind: events.KindInt, bit: 1},
		{name: "items", kind: events.KindObjectArray, sub: item, bit: 2},
	}}
	for _, tc := range []struct {
		body, want string
	}{
		{`{"count":-12,"items":[{"id":"6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b13"}]}`, ""},
		{`{"count":1.5}`, "x[0].count: want an integer, got a fraction"},
		{`{"count":"1"}`, "x[0].count: want an integer, got a string"},
		{`{"items":[{}]}`, "x[0].items[0].id: required field missing"},
		{`{"items":["a"]}`, "x[0].items[0]: want an object, got a string"},
		{`{"items":{}}`, "x[0].items: want an array, got an object"},
	} {
		v := newTestValidator(t)
		v.b, v.pos = []byte(tc.body), 0
		v.path = append(v.path[:0], pathElem{"x", 0})
		var rec record
		if err := v.object(m, &rec); err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		got := strings.Join(v.problems, "; ")
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestStringEscapes(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`"plain"`, "plain", true},
		{`"a\"b\\c\/d"`, `a"b\c/d`, true},
		{`"\b\f\n\r\t"`, "\b\f\n\r\t", true},
		{`"\u00e9t\u00C9"`, "étÉ", true},
		{`"\ud83d\ude00!"`, "😀!", true},
		{`"\ud83dx"`, "\uFFFDx", true},
		{`"é\n"`, "é\n", true},
		{`"\x"`, "", false},
		{`"\u12"`, "", false},
		{`"\u12g4"`, "", false},
		{`"a\`, "", false},
		{"\"\\n\x01\"", "", false},
		{"\"\\n\xff\"", "", false},
	} {
		v := newTestValidator(t)
		v.b, v.pos = []byte(tc.in), 0
		got, _, err := v.str()
		if (err == nil) != tc.ok || tc.ok && string(got) != tc.want {
			t.Errorf("str(%s) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, errSyntax) {
			t.Errorf("str(%s): error %v is not a syntax error", tc.in, err)
		}
	}
}
