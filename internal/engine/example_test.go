package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/loadgen/loadgen/internal/engine"
	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// presenceSource yields n presence events for three agents, 10 ms apart.
type presenceSource struct {
	enc events.Encoder
	i   int
	n   int
}

func (s *presenceSource) Next(ctx context.Context) (events.Timed, error) {
	if s.i == s.n {
		return events.Timed{}, io.EOF
	}
	s.i++
	ev := s.enc.Encode(&events.UserPresenceEvent{
		EventID:              fmt.Sprintf("00000000-0000-4000-8000-%012d", s.i),
		EventDateTime:        time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
		UserID:               fmt.Sprintf("agent-%d", s.i%3),
		SourceID:             "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08",
		PresenceDefinitionID: "e08eaf1b-ee47-4fa9-a231-1200e284798f",
	})
	return events.Timed{At: time.Duration(s.i) * 10 * time.Millisecond, Event: ev}, nil
}

// tally is a Sink that counts final outcomes.
type tally struct{ accepted, other atomic.Int64 }

func (t *tally) Generated(*events.Timed) {}
func (t *tally) Add(r *report.Result) {
	for _, e := range r.Events {
		switch e.Outcome {
		case report.Accepted:
			t.accepted.Add(1)
		case report.Retry:
		default:
			t.other.Add(1)
		}
	}
}

func ExampleRun() {
	// A stand-in for the Events API that takes everything.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "{}")
	}))
	defer target.Close()

	cfg := engine.Config{
		Target: target.URL,
		Tokens: engine.StaticToken("token-from-the-environment"),
		Batch:  engine.BatchConfig{Linger: 20 * time.Millisecond},
		Limits: engine.Limits{RequestsPerSecond: 50},
	}
	sink := &tally{}
	sum, err := engine.Run(context.Background(), cfg, &presenceSource{n: 30}, sink)
	if err != nil {
		fmt.Println("run failed:", err)
		return
	}
	fmt.Printf("generated %d, accepted %d (sink saw %d), not accepted %d, stopped early: %v\n",
		sum.Generated, sum.Accepted, sink.accepted.Load(), sink.other.Load(), sum.Cause != nil)
	// Output: generated 30, accepted 30 (sink saw 30), not accepted 0, stopped early: false
}
