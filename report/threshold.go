package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/loadgen/loadgen/internal/events"
)

// Unit is the unit of a threshold metric's value.
type Unit string

// Metric units. Rates are fractions (1% = 0.01).
const (
	UnitMillis    Unit = "ms"
	UnitRatio     Unit = "ratio"
	UnitCount     Unit = "count"
	UnitPerSecond Unit = "/s"
)

// Op is a threshold comparison.
type Op uint8

// Comparison operators.
const (
	OpLess Op = iota
	OpLessEqual
	OpGreater
	OpGreaterEqual
	OpEqual
	OpNotEqual
)

var opNames = [...]string{"<", "<=", ">", ">=", "==", "!="}

// String returns the operator as written in expressions.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "?"
}

func (o Op) holds(actual, limit float64) bool {
	const eps = 1e-9
	switch o {
	case OpLess:
		return actual < limit
	case OpLessEqual:
		return actual <= limit+eps
	case OpGreater:
		return actual > limit
	case OpGreaterEqual:
		return actual >= limit-eps
	case OpEqual:
		return math.Abs(actual-limit) <= eps
	case OpNotEqual:
		return math.Abs(actual-limit) > eps
	}
	return false
}

// Threshold is a parsed expression `<scope>.<metric> <op> <value>`. It is
// an immutable value, safe for concurrent use.
type Threshold struct {
	// Expr is the expression as written (trimmed).
	Expr string
	// Scope is an endpoint name, or "" for the whole run.
	Scope string
	// Metric is the canonical metric: latency.p99, serviceTime.max,
	// events.failed, requests.throttled.rate, rps, …
	Metric string
	Op     Op
	// Limit is the value in the metric's unit (ms, fraction, count, 1/s).
	Limit float64
	Unit  Unit
}

// String returns the expression.
func (t Threshold) String() string { return t.Expr }

// Metric vocabulary.
var (
	latencyHists = []string{histLatency, histServiceTime, histScheduleLag, histEndToEnd, histFirstAttempt}
	latencyStats = []string{"min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}
	eventCounts  = []string{"generated", "sent", "accepted", "rejected", "failed", "unsent"}
	eventRates   = []string{"accepted", "rejected", "failed", "unsent"}
	reqCounts    = []string{"sent", "ok", "throttled", "errors", "retries"}
	reqRates     = []string{"throttled", "errors", "retries"}
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// metricUnit returns the unit of a canonical metric, or false if the
// metric is unknown.
func metricUnit(m string) (Unit, bool) {
	parts := strings.Split(m, ".")
	switch {
	case len(parts) == 1 && (m == "rps" || m == "eps"):
		return UnitPerSecond, true
	case len(parts) == 2 && contains(latencyHists, parts[0]) && contains(latencyStats, parts[1]):
		return UnitMillis, true
	case len(parts) == 2 && parts[0] == "events" && contains(eventCounts, parts[1]):
		return UnitCount, true
	case len(parts) == 3 && parts[0] == "events" && contains(eventRates, parts[1]) && parts[2] == "rate":
		return UnitRatio, true
	case len(parts) == 2 && parts[0] == "requests" && contains(reqCounts, parts[1]):
		return UnitCount, true
	case len(parts) == 3 && parts[0] == "requests" && contains(reqRates, parts[1]) && parts[2] == "rate":
		return UnitRatio, true
	}
	return "", false
}

const metricHelp = "want p50|p90|p95|p99|p999|min|mean|max, latency|serviceTime|scheduleLag|endToEnd|firstAttempt.<stat>, " +
	"events.generated|sent|accepted|rejected|failed|unsent, events.accepted|rejected|failed|unsent.rate, " +
	"requests.sent|ok|throttled|errors|retries, requests.throttled|errors|retries.rate, rps, eps"

// ParseThreshold parses `<scope>.<metric> <op> <value>`, e.g.
// `conversations.p99 < 500ms`, `events.failed == 0`,
// `requests.throttled.rate < 1%`. The scope is conversations, presence or
// routingstatus, or absent for the whole run; a bare statistic (p99) means
// latency. Values take ms, s, µs/us, % or no unit (ms for latencies, a
// fraction for rates). Errors wrap ErrThreshold and name the bad part.
func ParseThreshold(expr string) (Threshold, error) {
	expr = strings.TrimSpace(expr)
	bad := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, fmt.Errorf("%w %q: %s", ErrThreshold, expr, fmt.Sprintf(format, args...))
	}
	opAt, op, opLen := -1, Op(0), 0
	for i := 0; i < len(expr) && opAt < 0; i++ {
		two := ""
		if i+1 < len(expr) {
			two = expr[i : i+2]
		}
		switch {
		case two == "<=":
			opAt, op, opLen = i, OpLessEqual, 2
		case two == ">=":
			opAt, op, opLen = i, OpGreaterEqual, 2
		case two == "==":
			opAt, op, opLen = i, OpEqual, 2
		case two == "!=":
			opAt, op, opLen = i, OpNotEqual, 2
		case expr[i] == '<':
			opAt, op, opLen = i, OpLess, 1
		case expr[i] == '>':
			opAt, op, opLen = i, OpGreater, 1
		case expr[i] == '=':
			return bad("operator \"=\" at column %d: want ==", i+1)
		}
	}
	if opAt < 0 {
		return bad("no operator (want <, <=, >, >=, == or !=)")
	}
	name := strings.TrimSpace(expr[:opAt])
	value := strings.TrimSpace(expr[opAt+opLen:])
	if name == "" {
		return bad("no metric before %q", op.String())
	}
	if value == "" {
		return bad("no value after %q", op.String())
	}
	t := Threshold{Expr: expr, Op: op}
	metric := name
	if dot := strings.IndexByte(name, '.'); dot >= 0 {
		if ep, err := events.ParseEndpoint(name[:dot]); err == nil {
			t.Scope = ep.String()
			metric = name[dot+1:]
		}
	}
	if contains(latencyStats, metric) {
		metric = histLatency + "." + metric
	}
	unit, ok := metricUnit(metric)
	if !ok {
		return bad("unknown metric %q (%s)", metric, metricHelp)
	}
	t.Metric, t.Unit = metric, unit
	limit, err := parseValue(value, unit)
	if err != nil {
		return bad("value %q: %v", value, err)
	}
	t.Limit = limit
	return t, nil
}

// parseValue converts a threshold value to unit.
func parseValue(s string, unit Unit) (float64, error) {
	num, suffix := s, ""
	for _, u := range []string{"/s", "ms", "µs", "μs", "us", "s", "%"} {
		if strings.HasSuffix(s, u) {
			num, suffix = strings.TrimSpace(strings.TrimSuffix(s, u)), u
			break
		}
	}
	if num == "" || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("not a number")
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("not a number")
	}
	switch suffix {
	case "":
		return v, nil
	case "ms", "s", "µs", "μs", "us":
		if unit != UnitMillis {
			return 0, fmt.Errorf("unit %q on a %s metric", suffix, unit)
		}
		switch suffix {
		case "s":
			return v * 1000, nil
		case "ms":
			return v, nil
		}
		return v / 1000, nil
	case "%":
		if unit != UnitRatio {
			return 0, fmt.Errorf("unit %% on a %s metric (only .rate metrics take %%)", unit)
		}
		return v / 100, nil
	case "/s":
		if unit != UnitPerSecond {
			return 0, fmt.Errorf("unit /s on a %s metric", unit)
		}
		return v, nil
	}
	return 0, fmt.Errorf("unknown unit %q", suffix)
}

// ParseThresholds parses each expression; the error names every bad one.
func ParseThresholds(exprs []string) ([]Threshold, error) {
	out := make([]Threshold, 0, len(exprs))
	var errs []string
	var first error
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			if first == nil {
				first = err
			}
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, t)
	}
	if first != nil {
		if len(errs) == 1 {
			return nil, first
		}
		return nil, fmt.Errorf("%w (%d bad thresholds): %s", ErrThreshold, len(errs), strings.Join(errs, "; "))
	}
	return out, nil
}

// Value returns the value of a metric for a scope ("" or an endpoint name),
// in the metric's unit, and false if the metric or scope is unknown. Rates
// with a zero denominator are 0.
func (r *Run) Value(scope, metric string) (float64, bool) {
	if _, ok := metricUnit(metric); !ok {
		return 0, false
	}
	ledger, reqs := r.Totals.Events, r.Totals.Requests
	var sums map[string]Summary
	if scope == "" {
		sums = map[string]Summary{histLatency: r.Totals.Latency, histServiceTime: r.Totals.ServiceTime,
			histScheduleLag: r.Totals.ScheduleLag, histEndToEnd: r.Totals.EndToEnd, histFirstAttempt: r.Totals.FirstAttempt}
	} else {
		st, ok := r.Endpoints[scope]
		if !ok {
			if _, err := events.ParseEndpoint(scope); err != nil {
				return 0, false
			}
			st = &EndpointStats{} // a known endpoint that saw no traffic
		}
		ledger, reqs = st.Events, st.requestCounts()
		sums = map[string]Summary{histLatency: st.Latency, histServiceTime: st.ServiceTime,
			histScheduleLag: st.ScheduleLag, histEndToEnd: st.EndToEnd, histFirstAttempt: st.FirstAttempt}
	}
	parts := strings.Split(metric, ".")
	secs := r.Run.Duration().Seconds()
	perSec := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	ratio := func(n, d int64) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	evCount := map[string]int64{"generated": ledger.Generated, "sent": ledger.Sent, "accepted": ledger.Accepted,
		"rejected": ledger.Rejected, "failed": ledger.Failed, "unsent": ledger.Unsent}
	reqCount := map[string]int64{"sent": reqs.Sent, "ok": reqs.OK, "throttled": reqs.Throttled,
		"errors": reqs.Errors, "retries": reqs.Retries}
	switch {
	case metric == "rps":
		return perSec(reqs.Sent), true
	case metric == "eps":
		return perSec(ledger.Sent), true
	case parts[0] == "events" && len(parts) == 2:
		return float64(evCount[parts[1]]), true
	case parts[0] == "events":
		return ratio(evCount[parts[1]], ledger.Generated), true
	case parts[0] == "requests" && len(parts) == 2:
		return float64(reqCount[parts[1]]), true
	case parts[0] == "requests":
		return ratio(reqCount[parts[1]], reqs.Sent), true
	}
	s := sums[parts[0]]
	stat := map[string]float64{"min": s.Min, "mean": s.Mean, "p50": s.P50, "p90": s.P90, "p95": s.P95,
		"p99": s.P99, "p999": s.P999, "max": s.Max}
	return stat[parts[1]], true
}

// Evaluate checks ths against r, replaces r.Thresholds with the results and
// reports whether all held. It is not safe for concurrent use with other
// writers of r.
func (r *Run) Evaluate(ths []Threshold) bool {
	r.Thresholds = make([]ThresholdResult, 0, len(ths))
	ok := true
	for _, t := range ths {
		actual, _ := r.Value(t.Scope, t.Metric)
		res := ThresholdResult{Expr: t.Expr, Actual: round6(actual), Limit: t.Limit, Unit: t.Unit,
			Delta: round6(actual - t.Limit), OK: t.Op.holds(actual, t.Limit)}
		ok = ok && res.OK
		r.Thresholds = append(r.Thresholds, res)
	}
	return ok
}

// Passed reports whether every evaluated threshold held.
func (r *Run) Passed() bool {
	for _, t := range r.Thresholds {
		if !t.OK {
			return false
		}
	}
	return true
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
