package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// CompareOptions sets how much worse the head run may be before Compare
// calls it a regression.
type CompareOptions struct {
	// Tolerance is the relative change allowed in the bad direction, e.g.
	// 0.1 lets p99 grow by 10 % and throughput fall by 10 %.
	Tolerance float64
	// Overrides sets the tolerance for one metric (p50, p99, p999,
	// errors.rate, throttled.rate, rps, eps), or for one endpoint's metric
	// ("conversations.p99"), which wins.
	Overrides map[string]float64
}

// Absolute floors: changes smaller than these never regress, so that an
// error rate going from 0 to one request in a million, or a latency
// moving by HDR rounding, does not fail a build.
const (
	latencyFloor = 0.05  // ms
	rateFloor    = 0.001 // 0.1 percentage point
)

// compareMetrics lists what Compare checks per endpoint.
var compareMetrics = []struct {
	name        string
	unit        Unit
	lowerBetter bool
	value       func(r *Run, ep string) float64
}{
	{"p50", UnitMillis, true, func(r *Run, ep string) float64 { return r.Endpoints[ep].Latency.P50 }},
	{"p99", UnitMillis, true, func(r *Run, ep string) float64 { return r.Endpoints[ep].Latency.P99 }},
	{"p999", UnitMillis, true, func(r *Run, ep string) float64 { return r.Endpoints[ep].Latency.P999 }},
	{"errors.rate", UnitRatio, true, func(r *Run, ep string) float64 { v, _ := r.Value(ep, "requests.errors.rate"); return v }},
	{"throttled.rate", UnitRatio, true, func(r *Run, ep string) float64 { v, _ := r.Value(ep, "requests.throttled.rate"); return v }},
	{"rps", UnitPerSecond, false, func(r *Run, ep string) float64 { v, _ := r.Value(ep, "rps"); return v }},
	{"eps", UnitPerSecond, false, func(r *Run, ep string) float64 { v, _ := r.Value(ep, "eps"); return v }},
}

// Delta is one compared metric.
type Delta struct {
	Endpoint string
	Metric   string
	Unit     Unit
	Base     float64
	Head     float64
	// Change is Head − Base; Relative is Change/Base (0 when Base is 0).
	Change    float64
	Relative  float64
	Tolerance float64
	Regressed bool
}

// Comparison is the result of Compare: a plain value, safe for concurrent
// reads.
type Comparison struct {
	Base, Head Info
	Deltas     []Delta
	// Warnings note what makes the comparison weak: different scenarios,
	// seeds or an invalid run.
	Warnings []string
}

// Compare compares head against base per endpoint: latency p50/p99/p999,
// error and throttle rates (lower is better), requests/s and events/s
// (higher is better). A metric regresses when it moved in the bad
// direction by more than its tolerance (and more than a small absolute
// floor). Endpoints without traffic in either run are skipped.
func Compare(base, head *Run, opts CompareOptions) *Comparison {
	c := &Comparison{Base: base.Run, Head: head.Run}
	if base.Run.Scenario != head.Run.Scenario || base.Run.ScenarioHash != head.Run.ScenarioHash {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different scenarios: base %q (%s), head %q (%s)", base.Run.Scenario, base.Run.ScenarioHash, head.Run.Scenario, head.Run.ScenarioHash))
	}
	if base.Run.Seed != head.Run.Seed {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different seeds: base %d, head %d", base.Run.Seed, head.Run.Seed))
	}
	for _, x := range []struct {
		name string
		r    *Run
	}{{"base", base}, {"head", head}} {
		if !x.r.Run.Valid {
			c.Warnings = append(c.Warnings, x.name+" run is invalid (generator saturated or ledger broken): its numbers are not trustworthy")
		}
	}
	names := head.endpointNames()
	for _, n := range base.endpointNames() {
		names = appendUnique(names, n)
	}
	for _, ep := range names {
		bs, hs := base.Endpoints[ep], head.Endpoints[ep]
		if (bs == nil || bs.Requests == 0) && (hs == nil || hs.Requests == 0) {
			continue
		}
		newInHead := bs == nil || bs.Requests == 0
		if newInHead {
			c.Warnings = append(c.Warnings, fmt.Sprintf("endpoint %s has no traffic in base: not compared", ep))
		}
		if hs == nil || hs.Requests == 0 {
			c.Warnings = append(c.Warnings, fmt.Sprintf("endpoint %s has no traffic in head", ep))
		}
		for _, m := range compareMetrics {
			d := Delta{Endpoint: ep, Metric: m.name, Unit: m.unit, Tolerance: opts.tolerance(ep, m.name)}
			if bs != nil {
				d.Base = m.value(base, ep)
			}
			if hs != nil {
				d.Head = m.value(head, ep)
			}
			d.Change = d.Head - d.Base
			if d.Base != 0 {
				d.Relative = d.Change / d.Base
			}
			floor := 0.0
			switch m.unit {
			case UnitMillis:
				floor = latencyFloor
			case UnitRatio:
				floor = rateFloor
			}
			if m.lowerBetter {
				d.Regressed = d.Change > floor && d.Head > d.Base*(1+d.Tolerance)
			} else {
				d.Regressed = -d.Change > floor && d.Head < d.Base*(1-d.Tolerance)
			}
			if newInHead {
				d.Regressed = false // nothing to regress from
			}
			c.Deltas = append(c.Deltas, d)
		}
	}
	return c
}

func (o CompareOptions) tolerance(ep, metric string) float64 {
	if v, ok := o.Overrides[ep+"."+metric]; ok {
		return v
	}
	if v, ok := o.Overrides[metric]; ok {
		return v
	}
	return o.Tolerance
}

// CompareMetricNames lists the metric names Compare uses, valid as
// CompareOptions.Overrides keys (optionally prefixed by an endpoint).
func CompareMetricNames() []string {
	out := make([]string, len(compareMetrics))
	for i, m := range compareMetrics {
		out[i] = m.name
	}
	return out
}

// Regressed reports whether any metric regressed.
func (c *Comparison) Regressed() bool {
	for _, d := range c.Deltas {
		if d.Regressed {
			return true
		}
	}
	return false
}

func (c *Comparison) verdict() string {
	n := 0
	for _, d := range c.Deltas {
		if d.Regressed {
			n++
		}
	}
	if n == 0 {
		return fmt.Sprintf("OK: no regression in %d metrics", len(c.Deltas))
	}
	return fmt.Sprintf("REGRESSION: %d of %d metrics", n, len(c.Deltas))
}

func fmtRelative(d Delta) string {
	if d.Base == 0 {
		if d.Head == 0 {
			return "0%"
		}
		return "new"
	}
	r := d.Relative * 100
	if math.Abs(r) < 0.05 {
		return "0%"
	}
	return fmt.Sprintf("%+.1f%%", r)
}

// WriteText writes the comparison as an aligned table.
func (c *Comparison) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "base %q seed %d (%s)  vs  head %q seed %d (%s)\n", c.Base.Scenario, c.Base.Seed, c.Base.StartedAt.Format("2006-01-02 15:04:05Z"),
		c.Head.Scenario, c.Head.Seed, c.Head.StartedAt.Format("2006-01-02 15:04:05Z"))
	fmt.Fprintf(bw, "%-14s %-15s %12s %12s %12s %8s %6s  %s\n", "endpoint", "metric", "base", "head", "delta", "rel", "tol", "")
	for _, d := range c.Deltas {
		mark := ""
		if d.Regressed {
			mark = "REGRESSED"
		}
		fmt.Fprintf(bw, "%-14s %-15s %12s %12s %12s %8s %6s  %s\n", d.Endpoint, d.Metric, fmtValue(d.Base, d.Unit), fmtValue(d.Head, d.Unit),
			fmtDelta(d.Change, d.Unit), fmtRelative(d), fmtFloat(d.Tolerance*100)+"%", mark)
	}
	for _, wn := range c.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", wn)
	}
	fmt.Fprintln(bw, c.verdict())
	return bw.Flush()
}

// WriteMarkdown writes the comparison as a GitHub-flavoured Markdown table
// for a pull-request comment.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	icon := "✅"
	if c.Regressed() {
		icon = "❌"
	}
	fmt.Fprintf(bw, "### loadgen compare: %s %s\n\n", icon, c.verdict())
	fmt.Fprintf(bw, "Base `%s` seed %d, head `%s` seed %d.\n\n", mdEscape(c.Base.Scenario), c.Base.Seed, mdEscape(c.Head.Scenario), c.Head.Seed)
	fmt.Fprintln(bw, "| endpoint | metric | base | head | delta | rel | tolerance | |")
	fmt.Fprintln(bw, "|---|---|---:|---:|---:|---:|---:|---|")
	for _, d := range c.Deltas {
		mark := ""
		if d.Regressed {
			mark = "❌ regressed"
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(d.Endpoint), d.Metric, fmtValue(d.Base, d.Unit), fmtValue(d.Head, d.Unit),
			fmtDelta(d.Change, d.Unit), fmtRelative(d), fmtFloat(d.Tolerance*100)+"%", mark)
	}
	for _, wn := range c.Warnings {
		fmt.Fprintf(bw, "\n> ⚠️ %s\n", mdEscape(wn))
	}
	return bw.Flush()
}

// mdEscape keeps user text from breaking a Markdown table.
func mdEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '|', '`', '*', '_', '<', '>', '[', ']':
			out = append(out, '\\')
		case '\n', '\r':
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
