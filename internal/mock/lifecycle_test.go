package mock

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// ev builds a minimal valid event of typ (required fields only) with the
// given fields set on top.
func ev(typ events.Type, n int, set map[string]any) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(appendSample(nil, typ.Fields(), n, true), &m); err != nil {
		panic(err) // test helper
	}
	for k, v := range set {
		m[k] = v
	}
	return m
}

// lifeCycleSteps is one conversation that breaks every rule once, in order.
// Each step is one request of one event.
func lifeCycleSteps() []struct {
	name string
	typ  events.Type
	ev   map[string]any
	kind string // the violation, "" when the event is fine
} {
	conv := testUUID(900, 0)
	l1, l2, l3, unknownLeg, cmd, unknownCmd := testUUID(900, 1), testUUID(900, 2), testUUID(900, 3), testUUID(900, 9), testUUID(900, 20), testUUID(900, 21)
	n := 0
	e := func(typ events.Type, set map[string]any) map[string]any {
		n++
		set["eventId"] = testUUID(901, n)
		set["conversationId"] = conv
		return ev(typ, n, set)
	}
	type step = struct {
		name string
		typ  events.Type
		ev   map[string]any
		kind string
	}
	return []step{
		{"establish customer", events.TypeExternalEstablished, e(events.TypeExternalEstablished, map[string]any{"communicationId": l1}), ""},
		{"answer unknown leg", events.TypeCommunicationAnswered, e(events.TypeCommunicationAnswered, map[string]any{"communicationId": unknownLeg}), "unknownLeg"},
		{"establish customer again", events.TypeExternalEstablished, e(events.TypeExternalEstablished, map[string]any{"communicationId": l1}), "duplicateLeg"},
		{"establish agent", events.TypeUserEstablished, e(events.TypeUserEstablished, map[string]any{"communicationId": l2,
			"initialConfiguration": map[string]any{"invitedBy": l1}}), ""},
		{"leg invited by unknown leg", events.TypeUserEstablished, e(events.TypeUserEstablished, map[string]any{"communicationId": l3,
			"initialConfiguration": map[string]any{"invitedBy": unknownLeg}}), "unknownReference"},
		{"progress of unknown command", events.TypeProgressTransfer, e(events.TypeProgressTransfer, map[string]any{"commandId": unknownCmd,
			"objectCommunicationId": l1, "destinationCommunicationId": l2}), "unknownCommand"},
		{"start transfer", events.TypeRoutingTransfer, e(events.TypeRoutingTransfer, map[string]any{"commandId": cmd,
			"initiatingCommunicationId": l2, "targetCommunicationId": l2, "objectCommunicationId": l1}), ""},
		{"progress transfer", events.TypeProgressTransfer, e(events.TypeProgressTransfer, map[string]any{"commandId": cmd,
			"objectCommunicationId": l1, "destinationCommunicationId": l2}), ""},
		{"consult naming unknown leg", events.TypeConsultTransfer, e(events.TypeConsultTransfer, map[string]any{
			"initiatingCommunicationId": l2, "destinationCommunicationId": unknownLeg, "objectCommunicationId": l1}), "unknownReference"},
		{"end customer", events.TypeCommunicationEnded, e(events.TypeCommunicationEnded, map[string]any{"communicationId": l1, "disconnectType": "Self"}), ""},
		{"hold after end", events.TypeHoldUpdated, e(events.TypeHoldUpdated, map[string]any{"communicationId": l1, "held": true}), "afterEnd"},
		{"wrap-up after end", events.TypeCommunicationDispositionApplied, e(events.TypeCommunicationDispositionApplied, map[string]any{"communicationId": l1}), ""},
		{"second wrap-up", events.TypeCommunicationDispositionApplied, e(events.TypeCommunicationDispositionApplied, map[string]any{"communicationId": l1}), "afterEnd"},
		{"second end", events.TypeCommunicationEnded, e(events.TypeCommunicationEnded, map[string]any{"communicationId": l1, "disconnectType": "Peer"}), "afterEnd"},
	}
}

func TestLifeCycleRules(t *testing.T) {
	for _, strict := range []bool{false, true} {
		name := "counting"
		if strict {
			name = "strict"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, Config{StrictSequence: strict})
			var accepted int64
			want := Violations{}
			for _, st := range lifeCycleSteps() {
				errs := batchErrors(t, h.post(events.Conversations, batchOf(st.typ, st.ev)))
				switch st.kind {
				case "":
					accepted++
				case "unknownLeg":
					want.UnknownLeg++
				case "afterEnd":
					want.AfterEnd++
				case "duplicateLeg":
					want.DuplicateLeg++
				case "unknownCommand":
					want.UnknownCommand++
				case "unknownReference":
					want.UnknownReference++
				}
				if st.kind != "" {
					want.Total++
					if !strict {
						accepted++
					}
				}
				rejected := strict && st.kind != ""
				if rejected != (len(errs) == 1) {
					t.Fatalf("%s: errors %+v, want rejected=%v", st.name, errs, rejected)
				}
				if rejected && (errs[0].Retryable || errs[0].EventID != st.ev["eventId"] || !strings.Contains(errs[0].Message, "("+st.kind+")")) {
					t.Errorf("%s: error %+v, want the eventId, retryable false and %q", st.name, errs[0], st.kind)
				}
				if got := h.srv.Stats().SequenceViolations; got != want {
					t.Fatalf("after %q: violations %+v, want %+v", st.name, got, want)
				}
			}
			if got := h.srv.Stats().Endpoints["conversations"].Accepted; got != accepted {
				t.Errorf("accepted %d, want %d", got, accepted)
			}
		})
	}
}

func TestEmailReferences(t *testing.T) {
	h := newHarness(t, Config{StrictSequence: true})
	conv, e1, e2 := testUUID(700, 0), testUUID(700, 1), testUUID(700, 2)
	first := ev(events.TypeEmailExternalEstablished, 1, map[string]any{"eventId": testUUID(701, 1), "conversationId": conv, "communicationId": e1})
	follow := ev(events.TypeEmailExternalEstablished, 2, map[string]any{"eventId": testUUID(701, 2), "conversationId": conv, "communicationId": e2})
	follow["initialConfiguration"].(map[string]any)["previousEmailId"] = testUUID(700, 3) // never established
	errs := batchErrors(t, h.post(events.Conversations, batchOf(events.TypeEmailExternalEstablished, first, follow)))
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "previousEmailId") || !strings.Contains(errs[0].Message, "unknownReference") {
		t.Fatalf("errors %+v, want previousEmailId unknownReference", errs)
	}
	follow["initialConfiguration"].(map[string]any)["previousEmailId"] = e1
	if errs := batchErrors(t, h.post(events.Conversations, batchOf(events.TypeEmailExternalEstablished, follow))); len(errs) != 0 {
		t.Fatalf("errors %+v, want none", errs)
	}
}

func TestDuplicateEventIDs(t *testing.T) {
	h := newHarness(t, Config{StrictSequence: true})
	body := readTestdata(t, "readme-conversations.json")
	for range 3 {
		if errs := batchErrors(t, h.post(events.Conversations, body)); len(errs) != 0 {
			t.Fatalf("errors %+v", errs)
		}
	}
	// Twice in one batch: the second is a duplicate of the first.
	ps := sampleEvent(events.TypeUserPresence, 1)
	if errs := batchErrors(t, h.post(events.Presence, batchOf(events.TypeUserPresence, ps, ps))); len(errs) != 0 {
		t.Fatalf("errors %+v", errs)
	}
	st := h.srv.Stats()
	if c := st.Endpoints["conversations"]; c.Accepted != 2 || c.Duplicates != 4 {
		t.Errorf("conversations %+v, want 2 accepted, 4 duplicates", c)
	}
	if p := st.Endpoints["presence"]; p.Accepted != 1 || p.Duplicates != 1 {
		t.Errorf("presence %+v, want 1 accepted, 1 duplicate", p)
	}
	if v := st.SequenceViolations; v.DuplicateEventID != 5 || v.Total != 5 || v.DuplicateLeg != 0 {
		t.Errorf("violations %+v, want 5 duplicate eventIds and nothing else", v)
	}
	if et := st.EventTypes["ExternalEstablishedEvent"]; et.Accepted != 1 || et.Duplicates != 2 {
		t.Errorf("ExternalEstablishedEvent %+v", et)
	}
}

// TestStateBounded checks that ended and idle conversations and old
// eventIds are forgotten, so a long soak keeps bounded memory.
func TestStateBounded(t *testing.T) {
	h := newHarness(t, Config{ConversationRetention: time.Minute, IdleRetention: 10 * time.Minute, IDRetention: time.Minute})
	a, b := testUUID(800, 0), testUUID(801, 0)
	post := func(typ events.Type, evs ...any) {
		t.Helper()
		if errs := batchErrors(t, h.post(events.Conversations, batchOf(typ, evs...))); len(errs) != 0 {
			t.Fatalf("errors %+v", errs)
		}
	}
	post(events.TypeExternalEstablished,
		ev(events.TypeExternalEstablished, 1, map[string]any{"eventId": testUUID(802, 1), "conversationId": a, "communicationId": testUUID(800, 1)}),
		ev(events.TypeExternalEstablished, 2, map[string]any{"eventId": testUUID(802, 2), "conversationId": b, "communicationId": testUUID(801, 1)}))
	post(events.TypeCommunicationEnded, ev(events.TypeCommunicationEnded, 3, map[string]any{"eventId": testUUID(802, 3), "conversationId": a,
		"communicationId": testUUID(800, 1), "disconnectType": "Self"}))
	presence := func(n int) {
		t.Helper()
		if errs := batchErrors(t, h.post(events.Presence, batchOf(events.TypeUserPresence, ev(events.TypeUserPresence, n,
			map[string]any{"eventId": testUUID(803, n)})))); len(errs) != 0 {
			t.Fatalf("errors %+v", errs)
		}
	}
	if got := h.srv.Stats().Conversations; got != 2 {
		t.Fatalf("conversations %d, want 2", got)
	}
	h.clock.Add(2 * time.Minute) // a ended 2m ago: past its retention
	presence(1)
	if got := h.srv.Stats().Conversations; got != 1 {
		t.Errorf("after 2m: conversations %d, want 1 (the open one)", got)
	}
	h.clock.Add(9 * time.Minute) // b idle for 11m
	presence(2)
	if got := h.srv.Stats().Conversations; got != 0 {
		t.Errorf("after 11m: conversations %d, want 0", got)
	}
	// eventIds live between one and two IDRetentions.
	presence(3)
	h.clock.Add(61 * time.Second)
	presence(3)
	if d := h.srv.Stats().Endpoints["presence"].Duplicates; d != 1 {
		t.Errorf("within retention: duplicates %d, want 1", d)
	}
	h.clock.Add(61 * time.Second)
	presence(4) // rotates
	h.clock.Add(61 * time.Second)
	presence(3)
	if p := h.srv.Stats().Endpoints["presence"]; p.Duplicates != 1 || p.Accepted != 5 {
		t.Errorf("past retention: %+v, want the old id accepted again", p)
	}
}

// TestConcurrentCounts posts from several goroutines, with retries of the
// same events, and checks that each eventId is counted exactly once.
func TestConcurrentCounts(t *testing.T) {
	h := newHarness(t, Config{RateLimit: RateLimit{PerMinute: -1}})
	const workers, perWorker, batch = 4, 10, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				evs := make([]any, batch)
				for k := range evs {
					evs[k] = ev(events.TypeUserRoutingStatus, k, map[string]any{"eventId": testUUID(1000+w, i*batch+k)})
				}
				body := batchOf(events.TypeUserRoutingStatus, evs...)
				for range 2 { // every batch is sent twice, as after a lost answer
					r := h.post(events.RoutingStatus, body)
					if r.status != 202 || string(r.body) != "{}" {
						t.Errorf("status %d: %s", r.status, r.body)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	rs := h.srv.Stats().Endpoints["routingstatus"]
	if want := int64(workers * perWorker * batch); rs.Accepted != want || rs.Duplicates != want || rs.Requests != 2*workers*perWorker {
		t.Errorf("routingstatus %+v, want %d accepted and %d duplicates", rs, want, want)
	}
}
