package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

func ExampleWriteText() {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := report.NewCollector(report.CollectorConfig{Start: start})
	// The engine reports one Result per HTTP attempt; here one batch of
	// two presence events, answered 202 in 12 ms with one event rejected.
	for _, id := range []string{"e1", "e2"} {
		c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence, ID: id}})
	}
	c.Add(&report.Result{
		Endpoint: events.Presence, Batch: 1, Attempt: 1,
		FirstIntended: start, Intended: start, Sent: start.Add(time.Millisecond), Done: start.Add(12 * time.Millisecond),
		Status: 202, BytesOut: 512,
		Events: []report.EventResult{
			{ID: "e1", Type: events.TypeUserPresence, Outcome: report.Accepted},
			{ID: "e2", Type: events.TypeUserPresence, Outcome: report.Rejected, Message: "userId: unknown user"},
		},
	})
	th, err := report.ParseThreshold("presence.p99 < 500ms")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := c.Finish(report.Meta{Scenario: "example", Seed: 42, StartedAt: start, EndedAt: start.Add(time.Second),
		Thresholds: []report.Threshold{th}})
	if err != nil {
		fmt.Println(err)
		return
	}
	report.WriteText(os.Stdout, r)
	// Output:
	// loadgen run "example" seed 42 shard 0/1 target -
	// duration 1.0s  stop completed  valid yes  verdict PASS
	//
	// endpoint       generated  accepted rejected  failed  unsent requests    p50 ms    p99 ms    req/s     ev/s
	// presence               2         1        1       0       0        1    12.007    12.007      1.0      2.0
	// total                  2         1        1       0       0        1    12.007    12.007      1.0      2.0
	// requests ok 1, throttled 0, errors 0, retries 0; schedule lag p99 1 ms
	//
	// thresholds:
	//   PASS  presence.p99 < 500ms                     actual 12.007 ms, limit 500 ms, delta -487.993 ms
	//
	// failures: 1 events did not end accepted
	//          1  presence      rejected userId: unknown user
}
