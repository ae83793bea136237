package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

func TestSynthLedger(t *testing.T) {
	r := synthRun(t, synthOpts{seed: 3})
	tot := r.Totals.Events
	if !tot.Balanced() || tot.Generated == 0 {
		t.Fatalf("totals %+v do not balance", tot)
	}
	var sum report.Ledger
	for name, st := range r.Endpoints {
		if !st.Events.Balanced() {
			t.Errorf("endpoint %s: %+v does not balance", name, st.Events)
		}
		sum.Generated += st.Events.Generated
		sum.Unsent += st.Events.Unsent
	}
	var types int64
	for name, l := range r.EventTypes {
		if !l.Balanced() {
			t.Errorf("type %s: %+v does not balance", name, *l)
		}
		types += l.Generated
	}
	if sum.Generated != tot.Generated || types != tot.Generated {
		t.Errorf("generated: endpoints %d, types %d, total %d", sum.Generated, types, tot.Generated)
	}
	if got := r.Failures.Total; got != tot.Rejected+tot.Failed+tot.Unsent {
		t.Errorf("failures.total %d, want rejected+failed+unsent %d", got, tot.Rejected+tot.Failed+tot.Unsent)
	}
	var groups int64
	for _, g := range r.Failures.ByReason {
		groups += g.Count
		if len(g.ExampleEventIDs) == 0 || len(g.ExampleEventIDs) > 5 {
			t.Errorf("group %s/%s has %d examples, want 1..5", g.Endpoint, g.Reason, len(g.ExampleEventIDs))
		}
	}
	if groups != r.Failures.Total {
		t.Errorf("groups sum to %d, want %d", groups, r.Failures.Total)
	}
	var tlReq int64
	for _, s := range r.Timeline {
		tlReq += s.Requests
	}
	if tlReq != r.Totals.Requests.Sent {
		t.Errorf("timeline requests %d, want %d", tlReq, r.Totals.Requests.Sent)
	}
	if q := r.Totals.Requests; q.Sent != q.OK+q.Throttled+q.Errors {
		t.Errorf("requests %+v: sent != ok+throttled+errors", q)
	}
	if !r.Run.Valid || r.Generator.Saturated {
		t.Errorf("valid %v saturated %v, want a valid run", r.Run.Valid, r.Generator.Saturated)
	}
}

func TestFinishLedgerBreak(t *testing.T) {
	start := time.Unix(0, 0)
	c := report.NewCollector(report.CollectorConfig{Start: start, Now: func() time.Time { return start }})
	c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence, ID: "lost"}})
	r, err := c.Finish(report.Meta{StartedAt: start, EndedAt: start.Add(time.Second)})
	if !errors.Is(err, report.ErrLedger) {
		t.Fatalf("Finish error %v, want ErrLedger", err)
	}
	if r == nil || r.Run.Valid || len(r.Run.InvalidReasons) == 0 {
		t.Fatalf("run %+v: want an invalid run with reasons", r)
	}
	for _, scope := range []string{"total", "endpoint presence", "type UserPresenceEvent"} {
		if !strings.Contains(err.Error(), scope) {
			t.Errorf("error %q does not name %q", err, scope)
		}
	}
}

// result builds a one-event Result for the reason and stream tests.
func result(ep events.Endpoint, typ events.Type, id string, attempt int, status int, kind report.ErrorKind, o report.Outcome, msg string) *report.Result {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &report.Result{Endpoint: ep, Attempt: attempt, FirstIntended: t0, Intended: t0, Status: status, Kind: kind,
		Events: []report.EventResult{{ID: id, Type: typ, Outcome: o, Message: msg, Retryable: kind == report.ErrThrottled}}}
	if attempt > 0 {
		r.Sent, r.Done = t0.Add(time.Millisecond), t0.Add(5*time.Millisecond)
		r.Error = "boom"
	}
	return r
}

func TestFailureReasons(t *testing.T) {
	tests := []struct {
		name     string
		r        *report.Result
		stopping report.StopReason
		reason   string
		outcome  string
	}{
		{"rejected", result(events.Presence, events.TypeUserPresence, "a", 1, 202, report.ErrNone, report.Rejected, "userId: unknown"), "", "userId: unknown", "rejected"},
		{"rejected without message", result(events.Presence, events.TypeUserPresence, "a", 1, 202, report.ErrNone, report.Rejected, ""), "", "rejected", "rejected"},
		{"503", result(events.Conversations, events.TypeUserEstablished, "a", 3, 503, report.ErrStatus, report.Failed, ""), "", "http 503", "failed"},
		{"429 final", result(events.Conversations, events.TypeUserEstablished, "a", 3, 429, report.ErrThrottled, report.Failed, ""), "", "http 429", "failed"},
		{"auth", result(events.RoutingStatus, events.TypeUserRoutingStatus, "a", 1, 0, report.ErrAuth, report.Failed, ""), "", "auth", "failed"},
		{"401", result(events.RoutingStatus, events.TypeUserRoutingStatus, "a", 1, 401, report.ErrAuth, report.Failed, ""), "", "http 401", "failed"},
		{"timeout", result(events.Presence, events.TypeUserPresence, "a", 2, 0, report.ErrTimeout, report.Failed, ""), "", "timeout", "failed"},
		{"connection", result(events.Presence, events.TypeUserPresence, "a", 1, 0, report.ErrConnection, report.Failed, ""), "", "connection", "failed"},
		{"budget", result(events.Presence, events.TypeUserPresence, "a", 2, 503, report.ErrBudget, report.Failed, ""), "", "retry-budget", "failed"},
		{"decode", result(events.Presence, events.TypeUserPresence, "a", 1, 202, report.ErrDecode, report.Failed, ""), "", "decode", "failed"},
		{"unsent while interrupted", result(events.Presence, events.TypeUserPresence, "a", 0, 0, report.ErrNone, report.Unsent, ""), report.StopInterrupted, "unsent: interrupted", "unsent"},
		{"unsent at finish", result(events.Presence, events.TypeUserPresence, "a", 0, 0, report.ErrNone, report.Unsent, ""), "", "unsent: error", "unsent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			t0 := tc.r.FirstIntended
			c := report.NewCollector(report.CollectorConfig{Start: t0, Failures: &buf, Now: func() time.Time { return t0.Add(time.Minute) }})
			c.Generated(&events.Timed{Event: events.Event{Type: tc.r.Events[0].Type, ID: "a"}})
			if tc.stopping != "" {
				c.Stopping(tc.stopping)
			}
			c.Add(tc.r)
			r, err := c.Finish(report.Meta{StopReason: report.StopError, StartedAt: t0, EndedAt: t0.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Failures.ByReason) != 1 {
				t.Fatalf("groups %+v, want one", r.Failures.ByReason)
			}
			g := r.Failures.ByReason[0]
			if g.Reason != tc.reason || g.Outcome != tc.outcome || g.Count != 1 || g.Endpoint != tc.r.Endpoint.String() {
				t.Errorf("group %+v, want reason %q outcome %q", g, tc.reason, tc.outcome)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("failures line %q: %v", buf.String(), err)
			}
			for _, k := range []string{"eventId", "endpoint", "type", "reason", "status", "message", "retryable", "attempts", "time"} {
				if _, ok := line[k]; !ok {
					t.Errorf("line %s lacks %q", buf.String(), k)
				}
			}
			if line["attempts"] != float64(tc.r.Attempt) || line["status"] != float64(tc.r.Status) || line["eventId"] != "a" {
				t.Errorf("line %s: wrong attempts/status/eventId", buf.String())
			}
		})
	}
}

// TestConcurrentAdd drives Add, Live and Generated from many goroutines
// (run with -race) and checks that nothing is lost.
func TestConcurrentAdd(t *testing.T) {
	const workers, perWorker = 8, 500
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var stream bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stream.Write(p) })
	c := report.NewCollector(report.CollectorConfig{Start: t0, Failures: w})
	for i := 0; i < workers*perWorker*2; i++ {
		c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence}})
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &report.Result{Endpoint: events.Presence, Attempt: 1, Status: 202, Events: make([]report.EventResult, 2)}
			for i := 0; i < perWorker; i++ {
				at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
				res.FirstIntended, res.Intended, res.Sent, res.Done = at, at, at, at.Add(time.Duration(1+i%7)*time.Millisecond)
				res.Events[0] = report.EventResult{ID: fmt.Sprint(w, "-", i, "a"), Type: events.TypeUserPresence, Outcome: report.Accepted}
				res.Events[1] = report.EventResult{ID: fmt.Sprint(w, "-", i, "b"), Type: events.TypeUserPresence, Outcome: report.Rejected, Message: "bad"}
				c.Add(res)
				_ = c.Live()
			}
		}()
	}
	wg.Wait()
	live := c.Live().Endpoints[events.Presence]
	want := report.LiveEndpoint{Generated: 2 * workers * perWorker, Sent: 2 * workers * perWorker, Accepted: workers * perWorker,
		Rejected: workers * perWorker, Requests: workers * perWorker}
	if live != want {
		t.Errorf("Live = %+v, want %+v", live, want)
	}
	r, err := c.Finish(report.Meta{StartedAt: t0, EndedAt: t0.Add(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Endpoints["presence"].Latency.Count; n != workers*perWorker {
		t.Errorf("latency count %d, want %d", n, workers*perWorker)
	}
	lines := 0
	sc := bufio.NewScanner(&stream)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("torn line %q", sc.Text())
		}
		lines++
	}
	if lines != workers*perWorker {
		t.Errorf("failures.ndjson has %d lines, want %d", lines, workers*perWorker)
	}
}

func TestSaturation(t *testing.T) {
	tests := []struct {
		name      string
		n         int           // requests
		lag       time.Duration // schedule lag of each
		spike     time.Duration // schedule lag of the last one
		saturated bool
	}{
		{"healthy", 100, 2 * time.Millisecond, 2 * time.Millisecond, false},
		{"saturated", 100, 40 * time.Millisecond, 40 * time.Millisecond, true},
		// Few requests: p99 is the one pause; the median says the generator kept up.
		{"small run with one pause", 20, time.Millisecond, 80 * time.Millisecond, false},
		{"small run saturated", 20, 40 * time.Millisecond, 40 * time.Millisecond, true},
		{"large run with pauses", 200, time.Millisecond, 80 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			c := report.NewCollector(report.CollectorConfig{Start: t0})
			for i := 0; i < tc.n; i++ {
				c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence}})
				at := t0.Add(time.Duration(i) * time.Millisecond)
				lag := tc.lag
				if i == tc.n-1 {
					lag = tc.spike
				}
				c.Add(&report.Result{Endpoint: events.Presence, Attempt: 1, Status: 202, FirstIntended: at, Intended: at,
					Sent: at.Add(lag), Done: at.Add(lag + time.Millisecond),
					Events: []report.EventResult{{Type: events.TypeUserPresence, Outcome: report.Accepted}}})
			}
			r, err := c.Finish(report.Meta{StartedAt: t0, EndedAt: t0.Add(time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Generator.Saturated != tc.saturated || r.Run.Valid == tc.saturated {
				t.Errorf("saturated %v valid %v (lag p99 %v ms), want saturated %v", r.Generator.Saturated, r.Run.Valid, r.Generator.ScheduleLagP99, tc.saturated)
			}
			if r.Generator.SaturationLimit != 10 {
				t.Errorf("saturation limit %v ms, want 10", r.Generator.SaturationLimit)
			}
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := report.NewCollector(report.CollectorConfig{Start: t0})
	res := &report.Result{Endpoint: events.Conversations, Attempt: 1, Status: 202, Events: make([]report.EventResult, 100)}
	for i := range res.Events {
		res.Events[i] = report.EventResult{ID: "x", Type: events.TypeUserEstablished, Outcome: report.Accepted}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at := t0.Add(time.Duration(i) * 50 * time.Microsecond)
		res.FirstIntended, res.Intended, res.Sent, res.Done = at, at, at.Add(20*time.Microsecond), at.Add(time.Duration(500+i%3000)*time.Microsecond)
		c.Add(res)
		i++
	}
}

func BenchmarkAddParallel(b *testing.B) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := report.NewCollector(report.CollectorConfig{Start: t0})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		res := &report.Result{Endpoint: events.Conversations, Attempt: 1, Status: 202, Events: make([]report.EventResult, 100)}
		for i := range res.Events {
			res.Events[i] = report.EventResult{ID: "x", Type: events.TypeUserEstablished, Outcome: report.Accepted}
		}
		i := 0
		for pb.Next() {
			at := t0.Add(time.Duration(i) * 50 * time.Microsecond)
			res.FirstIntended, res.Intended, res.Sent, res.Done = at, at, at, at.Add(time.Duration(500+i%3000)*time.Microsecond)
			res.Endpoint = events.Endpoint(i % events.NumEndpoints)
			c.Add(res)
			i++
		}
	})
}
