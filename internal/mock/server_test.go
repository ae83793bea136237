package mock

import (
	"testing"

	"github.com/loadgen/loadgen/internal/events"
)

func TestReadmeExamplesAccepted(t *testing.T) {
	h := newHarness(t, Config{StrictSequence: true})
	for _, tc := range []struct {
		file string
		ep   events.Endpoint
		n    int64
	}{
		{"readme-conversations.json", events.Conversations, 2},
		{"readme-presence.json", events.Presence, 1},
		{"readme-routingstatus.json", events.RoutingStatus, 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := h.post(tc.ep, readTestdata(t, tc.file))
			if errs := batchErrors(t, r); len(errs) != 0 {
				t.Fatalf("errors: %+v", errs)
			}
			if string(r.body) != "{}" {
				t.Errorf("body %s, want {}", r.body)
			}
			if got := h.srv.Stats().Endpoints[tc.ep.String()].Accepted; got != tc.n {
				t.Errorf("accepted %d, want %d", got, tc.n)
			}
		})
	}
	if v := h.srv.Stats().SequenceViolations; v != (Violations{}) {
		t.Errorf("violations %+v, want none", v)
	}
}
