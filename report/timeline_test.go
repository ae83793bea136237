package report_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// addOne adds one accepted single-event presence request that completes
// at done with the given latency.
func addOne(c *report.Collector, done time.Time, latency time.Duration, status int, kind report.ErrorKind, attempt int) {
	c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence}})
	c.Add(&report.Result{Endpoint: events.Presence, Attempt: attempt, Status: status, Kind: kind,
		FirstIntended: done.Add(-latency), Intended: done.Add(-latency), Sent: done.Add(-latency), Done: done,
		Events: []report.EventResult{{Type: events.TypeUserPresence, Outcome: report.Accepted}}})
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := report.NewCollector(report.CollectorConfig{Start: t0})
	// Second 0: 100 requests with latencies 1..100 ms.
	for i := 1; i <= 100; i++ {
		addOne(c, t0.Add(time.Duration(i)*time.Millisecond), time.Duration(i)*time.Millisecond, 202, report.ErrNone, 1)
	}
	// Second 2: a throttle, an error and a retry; second 1 stays empty.
	addOne(c, t0.Add(2500*time.Millisecond), 5*time.Millisecond, 429, report.ErrThrottled, 1)
	addOne(c, t0.Add(2600*time.Millisecond), 5*time.Millisecond, 503, report.ErrStatus, 2)
	addOne(c, t0.Add(4100*time.Millisecond), 6*time.Millisecond, 202, report.ErrNone, 1)
	// Second 20 reuses second 4's histogram slot (8 are kept); a late
	// result for second 4 still counts in the counters but not in the
	// percentiles.
	addOne(c, t0.Add(20*time.Second), 7*time.Millisecond, 202, report.ErrNone, 1)
	addOne(c, t0.Add(4700*time.Millisecond), 900*time.Millisecond, 202, report.ErrNone, 1)
	r, err := c.Finish(report.Meta{StartedAt: t0, EndedAt: t0.Add(21 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Timeline) != 21 {
		t.Fatalf("%d rows, want 21 (seconds 0..20)", len(r.Timeline))
	}
	tests := []struct {
		sec                                  int
		requests, errors, throttled, retries int64
		p50, p99                             float64
		codes                                map[string]int64
	}{
		{0, 100, 0, 0, 0, 50, 99, map[string]int64{"202": 100}},
		{1, 0, 0, 0, 0, 0, 0, nil},
		{2, 2, 1, 1, 1, 5, 5, map[string]int64{"429": 1, "503": 1}},
		{4, 2, 0, 0, 0, 6, 6, map[string]int64{"202": 2}},
		{20, 1, 0, 0, 0, 7, 7, map[string]int64{"202": 1}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("second ", tc.sec), func(t *testing.T) {
			row := r.Timeline[tc.sec]
			if row.Second != tc.sec || row.Requests != tc.requests || row.Errors != tc.errors || row.Throttled != tc.throttled || row.Retries != tc.retries {
				t.Errorf("row %+v", row)
			}
			// 2 significant digits per second: within 1 %.
			if !near(row.P50, tc.p50, 0.01) || !near(row.P99, tc.p99, 0.01) {
				t.Errorf("p50 %v p99 %v, want about %v and %v", row.P50, row.P99, tc.p50, tc.p99)
			}
			if len(row.StatusCodes) != len(tc.codes) {
				t.Errorf("status codes %v, want %v", row.StatusCodes, tc.codes)
			}
			for k, v := range tc.codes {
				if row.StatusCodes[k] != v {
					t.Errorf("status %s = %d, want %d", k, row.StatusCodes[k], v)
				}
			}
		})
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "1 late results") {
		t.Errorf("warnings %q: want the late result noted", r.Warnings)
	}
}

func near(got, want, rel float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= want*rel+0.001
}

func TestFailureGroupsBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := report.NewCollector(report.CollectorConfig{Start: t0})
	const n = 1500
	for i := 0; i < n; i++ {
		id := fmt.Sprint("e", i)
		c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence, ID: id}})
		c.Add(&report.Result{Endpoint: events.Presence, Attempt: 1, Status: 202, Intended: t0, FirstIntended: t0, Sent: t0, Done: t0.Add(time.Millisecond),
			Events: []report.EventResult{{ID: id, Type: events.TypeUserPresence, Outcome: report.Rejected, Message: "unknown user " + id}}})
	}
	r, err := c.Finish(report.Meta{StartedAt: t0, EndedAt: t0.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(r.Failures.ByReason); got != 1001 {
		t.Errorf("%d groups, want 1000 plus one overflow group", got)
	}
	if g := r.Failures.ByReason[0]; !strings.HasPrefix(g.Reason, "other") || g.Count != n-1000 || len(g.ExampleEventIDs) != 5 {
		t.Errorf("largest group %+v, want the overflow with %d events and 5 examples", g, n-1000)
	}
	if r.Failures.Total != n || r.Totals.Events.Rejected != n {
		t.Errorf("total %d rejected %d, want %d", r.Failures.Total, r.Totals.Events.Rejected, n)
	}
}
