package report_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// synthStart is the fixed start of every synthetic run.
var synthStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// synthOpts shapes a synthetic run.
type synthOpts struct {
	seed uint64
	// latencyScale multiplies every service time (2 = doubled latency).
	latencyScale float64
	// keep selects the batches this collector sees (nil = all), so that
	// two halves of one run can be built.
	keep func(batch int) bool
	// thresholds are parsed into Meta.Thresholds.
	thresholds []string
}

// synthRun feeds a Collector a deterministic 30-second run over the three
// endpoints: throttling with retries, 503 failures, rejections, and
// batches left unsent at the end; it returns the finished Run.
func synthRun(tb testing.TB, o synthOpts) *report.Run {
	tb.Helper()
	c, meta := synthCollector(tb, o, nil)
	r, err := c.Finish(meta)
	if err != nil {
		tb.Fatalf("Finish: %v", err)
	}
	return r
}

func synthCollector(tb testing.TB, o synthOpts, failures *[]byte) (*report.Collector, report.Meta) {
	tb.Helper()
	if o.latencyScale == 0 {
		o.latencyScale = 1
	}
	end := synthStart.Add(30 * time.Second)
	cfg := report.CollectorConfig{Start: synthStart, Now: func() time.Time { return end }}
	if failures != nil {
		cfg.Failures = writerFunc(func(p []byte) (int, error) { *failures = append(*failures, p...); return len(p), nil })
	}
	c := report.NewCollector(cfg)
	rng := rand.New(rand.NewPCG(o.seed, 7))
	var byEp [events.NumEndpoints][]events.Type
	for _, t := range events.Types() {
		byEp[t.Endpoint()] = append(byEp[t.Endpoint()], t)
	}
	ev := 0
	res := &report.Result{}
	for b := 0; b < 900; b++ {
		// Draw everything before deciding whether to keep the batch, so
		// that halves see the same values as the whole.
		ep := events.Endpoint(b % events.NumEndpoints)
		n := 1 + rng.IntN(20)
		intended := synthStart.Add(time.Duration(b) * 30 * time.Millisecond)
		lag := time.Duration(50+rng.IntN(400)) * time.Microsecond
		svc := time.Duration(float64(3*time.Millisecond+time.Duration(rng.ExpFloat64()*float64(4*time.Millisecond))) * o.latencyScale)
		fate := rng.Float64()
		types := make([]events.Type, n)
		ids := make([]string, n)
		for i := range types {
			types[i] = byEp[ep][rng.IntN(len(byEp[ep]))]
			ids[i] = fmt.Sprintf("ev-%06d", ev)
			ev++
		}
		if o.keep != nil && !o.keep(b) {
			continue
		}
		for i := range types {
			c.Generated(&events.Timed{At: intended.Sub(synthStart), Event: events.Event{Type: types[i], ID: ids[i]}})
		}
		res.Endpoint, res.Batch = ep, uint64(b)
		res.FirstIntended, res.Intended = intended, intended
		res.Events = res.Events[:0]
		add := func(o report.Outcome, msg string) {
			res.Events = res.Events[:0]
			for i := range types {
				res.Events = append(res.Events, report.EventResult{ID: ids[i], Type: types[i], Outcome: o})
			}
			if msg != "" {
				res.Events[0].Outcome, res.Events[0].Message = report.Rejected, msg
			}
		}
		attempt := func(a int, sent time.Time, status int, kind report.ErrorKind) {
			res.Attempt, res.Sent, res.Done = a, sent, sent.Add(svc)
			res.Status, res.Kind, res.BytesOut = status, kind, 220*n
			res.Error = ""
			if kind != report.ErrNone {
				res.Error = fmt.Sprintf("status %d", status)
			}
			c.Add(res)
		}
		switch {
		case intended.After(synthStart.Add(26 * time.Second)):
			c.Stopping(report.StopInterrupted)
			add(report.Unsent, "")
			res.Attempt, res.Sent, res.Done, res.Status, res.Kind, res.BytesOut = 0, time.Time{}, time.Time{}, 0, report.ErrNone, 0
			c.Add(res)
		case fate < 0.04:
			add(report.Retry, "")
			attempt(1, intended.Add(lag), 429, report.ErrThrottled)
			add(report.Accepted, "")
			res.Intended = intended.Add(200 * time.Millisecond)
			attempt(2, res.Intended.Add(lag), 202, report.ErrNone)
		case fate < 0.06:
			add(report.Failed, "")
			attempt(1, intended.Add(lag), 503, report.ErrStatus)
		case fate < 0.09:
			add(report.Accepted, "conversationId: invalid UUID")
			attempt(1, intended.Add(lag), 202, report.ErrNone)
		default:
			add(report.Accepted, "")
			attempt(1, intended.Add(lag), 202, report.ErrNone)
		}
	}
	ths := make([]report.Threshold, len(o.thresholds))
	for i, e := range o.thresholds {
		t, err := report.ParseThreshold(e)
		if err != nil {
			tb.Fatalf("ParseThreshold(%q): %v", e, err)
		}
		ths[i] = t
	}
	meta := report.Meta{
		Scenario: "synthetic", ScenarioHash: "sha256:0123abcd", Seed: int64(o.seed), ShardCount: 1,
		Target: "http://127.0.0.1:8080", StartedAt: synthStart, EndedAt: end, StopReason: report.StopInterrupted,
		Thresholds: ths, Generator: report.Generator{CPUSeconds: 1.25, MaxRSSBytes: 48 << 20},
	}
	return c, meta
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// goldenThresholds mix passing and failing expressions.
var goldenThresholds = []string{
	"conversations.p99 < 500ms",
	"latency.p999 < 2s",
	"events.failed == 0",
	"requests.throttled.rate < 1%",
	"events.accepted.rate >= 99.9%",
	"presence.serviceTime.p50 <= 20ms",
}
