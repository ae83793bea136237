package recorder

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/internal/events"
)

func TestIDFields(t *testing.T) {
	got := IDFields()
	slices.Sort(got)
	want := []string{"commandId", "communicationId", "conversationId", "destinationCommunicationId", "destinationConversationId",
		"eventId", "initiatingCommunicationId", "invitedBy", "objectCommunicationId", "previousEmailId", "targetCommunicationId"}
	if !slices.Equal(got, want) {
		t.Fatalf("IDFields = %v\nwant %v", got, want)
	}
}

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// flatten maps "path.to.field" to its string values.
func flatten(t *testing.T, js []byte) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("rewritten JSON invalid: %v\n%s", err, js)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(prefix+k+".", x)
			}
		case string:
			out[strings.TrimSuffix(prefix, ".")] = v
		}
	}
	walk("", m)
	return out
}

func TestRewriter(t *testing.T) {
	orig := sampleEvents()
	rewrite := func(salt string) []events.Event {
		rw := NewRewriter(salt)
		out := make([]events.Event, len(orig))
		for i, ev := range orig {
			var err error
			if out[i], err = rw.Rewrite(ev.Event); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	a, again, b := rewrite("run-1"), rewrite("run-1"), rewrite("run-2")
	rw := NewRewriter("run-1")
	origIDs := map[string]bool{convID: true, custLeg: true, queueLeg: true, agentLeg: true, newLeg: true, cmdID: true}
	for _, ev := range orig {
		origIDs[ev.ID] = true
	}
	for i := range orig {
		if string(a[i].JSON) != string(again[i].JSON) || a[i].ID != again[i].ID {
			t.Fatalf("event %d: same salt gave different output", i)
		}
		if a[i].ID == b[i].ID || string(a[i].JSON) == string(b[i].JSON) {
			t.Fatalf("event %d: another salt gave the same IDs", i)
		}
		if a[i].ID == orig[i].ID || !uuidV5.MatchString(a[i].ID) {
			t.Fatalf("event %d: ID %q not a fresh UUIDv5", i, a[i].ID)
		}
		before, after := flatten(t, orig[i].JSON), flatten(t, a[i].JSON)
		if len(before) != len(after) {
			t.Fatalf("event %d: fields changed: %v vs %v", i, before, after)
		}
		for field, v := range before {
			name := field[strings.LastIndexByte(field, '.')+1:]
			switch {
			case idFields[name]:
				if after[field] != rw.ID(v) || origIDs[after[field]] {
					t.Errorf("event %d %s: %s → %s, want %s", i, field, v, after[field], rw.ID(v))
				}
			default:
				if after[field] != v {
					t.Errorf("event %d %s: org/other field changed %s → %s", i, field, v, after[field])
				}
			}
		}
		if a[i].Type.Endpoint() == events.Conversations {
			if a[i].Key != events.KeyOf(rw.ID(convID)) {
				t.Errorf("event %d: Key not of the new conversationId", i)
			}
		} else if a[i].Key != orig[i].Key {
			t.Errorf("event %d: agent-state Key changed", i)
		}
		for id := range origIDs {
			if strings.Contains(string(a[i].JSON), id) {
				t.Errorf("event %d still carries original id %s", i, id)
			}
		}
	}
	// References stay consistent: the agent leg's Ended event names the
	// leg its Established event created; invitedBy names the new leg.
	est, ended := flatten(t, a[4].JSON), flatten(t, a[11].JSON)
	if est["communicationId"] != ended["communicationId"] {
		t.Errorf("Ended carries %s, Established created %s", ended["communicationId"], est["communicationId"])
	}
	if q := flatten(t, a[3].JSON); est["initialConfiguration.invitedBy"] != q["communicationId"] {
		t.Errorf("invitedBy %s, queue leg %s", est["initialConfiguration.invitedBy"], q["communicationId"])
	}
	tr, prog := flatten(t, a[8].JSON), flatten(t, a[10].JSON)
	if tr["commandId"] != prog["commandId"] || prog["destinationCommunicationId"] != flatten(t, a[9].JSON)["communicationId"] {
		t.Errorf("transfer references broken: %v %v", tr, prog)
	}
	if orig[0].ID != "00000000-0000-4000-8000-000000000001" {
		t.Fatal("the original events were modified")
	}
}

func TestRewriterEscapesAndEmpty(t *testing.T) {
	rw := NewRewriter("x")
	got, err := rw.AppendJSON(nil, []byte(`{"eventId":"a\u0062c","invitedBy":"","userId":"u","list":["conversationId"],"n":{"commandId":"k"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"eventId":"` + rw.ID("abc") + `","invitedBy":"","userId":"u","list":["conversationId"],"n":{"commandId":"` + rw.ID("k") + `"}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := rw.AppendJSON(nil, []byte(`{"eventId":"abc`)); err == nil {
		t.Fatal("malformed JSON accepted")
	}
}
