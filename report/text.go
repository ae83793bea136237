package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/loadgen/loadgen/internal/events"
)

// WriteText writes a compact human summary: identity, verdict, a table per
// endpoint, thresholds, the top failure reasons and warnings.
func WriteText(w io.Writer, r *Run) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	info := r.Run
	p("loadgen run %q seed %d shard %d/%d target %s\n", info.Scenario, info.Seed, info.Shard.Index, info.Shard.Count, orDash(info.Target))
	p("duration %s  stop %s  valid %s  verdict %s\n", fmtSeconds(info.Duration().Seconds()), info.StopReason, yesNo(info.Valid), r.Verdict())
	for _, why := range info.InvalidReasons {
		p("  invalid: %s\n", why)
	}
	p("\n%-14s %9s %9s %8s %7s %7s %8s %9s %9s %8s %8s\n",
		"endpoint", "generated", "accepted", "rejected", "failed", "unsent", "requests", "p50 ms", "p99 ms", "req/s", "ev/s")
	secs := info.Duration().Seconds()
	row := func(name string, l Ledger, reqs int64, lat Summary) {
		p("%-14s %9d %9d %8d %7d %7d %8d %9s %9s %8s %8s\n", name, l.Generated, l.Accepted, l.Rejected, l.Failed, l.Unsent,
			reqs, fmtMs(lat.P50, lat.Count), fmtMs(lat.P99, lat.Count), fmtRate(reqs, secs), fmtRate(l.Sent, secs))
	}
	for _, ep := range r.endpointNames() {
		st := r.Endpoints[ep]
		if st.Events.Generated == 0 && st.Requests == 0 && st.Events.Settled() == 0 {
			continue // an endpoint the scenario does not use
		}
		row(ep, st.Events, st.Requests, st.Latency)
	}
	row("total", r.Totals.Events, r.Totals.Requests.Sent, r.Totals.Latency)
	q := r.Totals.Requests
	p("requests ok %d, throttled %d, errors %d, retries %d; schedule lag p99 %s ms", q.OK, q.Throttled, q.Errors, q.Retries, fmtFloat(r.Generator.ScheduleLagP99))
	if r.Generator.Saturated {
		p(" (SATURATED)")
	}
	p("\n")
	if len(r.Thresholds) > 0 {
		p("\nthresholds:\n")
		for _, t := range r.Thresholds {
			p("  %s  %-40s actual %s, limit %s, delta %s\n", passFail(t.OK), t.Expr, fmtValue(t.Actual, t.Unit), fmtValue(t.Limit, t.Unit), fmtDelta(t.Delta, t.Unit))
		}
	}
	if r.Failures.Total > 0 {
		p("\nfailures: %d events did not end accepted\n", r.Failures.Total)
		for i, g := range r.Failures.ByReason {
			if i == 10 {
				p("  … %d more reasons in run.json\n", len(r.Failures.ByReason)-i)
				break
			}
			p("  %8d  %-13s %-8s %s\n", g.Count, g.Endpoint, g.Outcome, g.Reason)
		}
	}
	if rp := r.Replay; rp != nil {
		speed := "max"
		if rp.Speed > 0 {
			speed = strconv.FormatFloat(rp.Speed, 'g', -1, 64) + "x"
		}
		p("\nreplay of %s at %s, loop %d, rewrite ids %v, shift time %v; %d bad lines skipped; schedule lag p99 %.3f ms against the capture's offsets\n",
			rp.Capture, speed, rp.Loop, rp.RewriteIDs, rp.ShiftTime, rp.SkippedLines, r.Totals.ScheduleLag.P99)
		if rp.Truncated {
			p("warning: the capture ends in a torn line; the events before it were replayed\n")
		}
	}
	for _, wn := range r.Warnings {
		p("warning: %s\n", wn)
	}
	return bw.Flush()
}

// Verdict is PASS or FAIL by the thresholds, with INVALID when the run's
// numbers cannot be trusted.
func (r *Run) Verdict() string {
	v := "PASS"
	if !r.Passed() {
		v = "FAIL"
	}
	if !r.Run.Valid {
		v += " (INVALID)"
	}
	return v
}

// endpointNames lists the run's endpoints in the canonical order first.
func (r *Run) endpointNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, ep := range events.Endpoints() {
		if _, ok := r.Endpoints[ep.String()]; ok {
			names = append(names, ep.String())
			seen[ep.String()] = true
		}
	}
	for _, k := range sortedKeys(r.Endpoints) {
		if !seen[k] {
			names = append(names, k)
		}
	}
	return names
}

// typeNames lists the run's event types in schema order.
func (r *Run) typeNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, t := range events.Types() {
		if _, ok := r.EventTypes[t.String()]; ok {
			names = append(names, t.String())
			seen[t.String()] = true
		}
	}
	for _, k := range sortedKeys(r.EventTypes) {
		if !seen[k] {
			names = append(names, k)
		}
	}
	return names
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// fmtFloat prints v with at most three decimals and no trailing zeros.
func fmtFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func fmtMs(v float64, n int64) string {
	if n == 0 {
		return "-"
	}
	return fmtFloat(v)
}

func fmtSeconds(s float64) string { return fmt.Sprintf("%.1fs", s) }

func fmtRate(n int64, secs float64) string {
	if secs <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(n)/secs)
}

// fmtValue prints a threshold value in its unit.
func fmtValue(v float64, u Unit) string {
	switch u {
	case UnitMillis:
		return fmtFloat(v) + " ms"
	case UnitRatio:
		return fmtFloat(v*100) + "%"
	case UnitPerSecond:
		return fmtFloat(v) + "/s"
	}
	return fmtFloat(v)
}

func fmtDelta(v float64, u Unit) string {
	s := fmtValue(v, u)
	if v > 0 {
		s = "+" + s
	}
	return s
}
