package report_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/report"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr   string
		scope  string
		metric string
		op     report.Op
		limit  float64
		unit   report.Unit
	}{
		{"conversations.p99 < 500ms", "conversations", "latency.p99", report.OpLess, 500, report.UnitMillis},
		{"latency.p999 < 2s", "", "latency.p999", report.OpLess, 2000, report.UnitMillis},
		{"events.failed == 0", "", "events.failed", report.OpEqual, 0, report.UnitCount},
		{"requests.throttled.rate < 1%", "", "requests.throttled.rate", report.OpLess, 0.01, report.UnitRatio},
		{"events.accepted.rate >= 99.9%", "", "events.accepted.rate", report.OpGreaterEqual, 0.999, report.UnitRatio},
		{"  presence.serviceTime.p50<=20ms ", "presence", "serviceTime.p50", report.OpLessEqual, 20, report.UnitMillis},
		{"scheduleLag.p99 > 250us", "", "scheduleLag.p99", report.OpGreater, 0.25, report.UnitMillis},
		{"routingstatus.mean != 3µs", "routingstatus", "latency.mean", report.OpNotEqual, 0.003, report.UnitMillis},
		{"rps >= 2000/s", "", "rps", report.OpGreaterEqual, 2000, report.UnitPerSecond},
		{"eps > 10", "", "eps", report.OpGreater, 10, report.UnitPerSecond},
		{"p99 < 12.5", "", "latency.p99", report.OpLess, 12.5, report.UnitMillis},
		{"requests.errors.rate <= 0.001", "", "requests.errors.rate", report.OpLessEqual, 0.001, report.UnitRatio},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := report.ParseThreshold(tc.expr)
			if err != nil {
				t.Fatalf("ParseThreshold: %v", err)
			}
			if got.Scope != tc.scope || got.Metric != tc.metric || got.Op != tc.op || got.Unit != tc.unit {
				t.Errorf("got scope %q metric %q op %v unit %q, want %q %q %v %q", got.Scope, got.Metric, got.Op, got.Unit, tc.scope, tc.metric, tc.op, tc.unit)
			}
			if diff := got.Limit - tc.limit; diff > 1e-12 || diff < -1e-12 {
				t.Errorf("limit %v, want %v", got.Limit, tc.limit)
			}
			if got.Expr != strings.TrimSpace(tc.expr) {
				t.Errorf("expr %q, want trimmed input", got.Expr)
			}
		})
	}
}

func TestParseThresholdErrors(t *testing.T) {
	tests := []struct{ expr, mention string }{
		{"conversations.p98 < 500ms", `unknown metric "p98"`},
		{"latency.p99 = 2s", "want =="},
		{"events.failed 0", "no operator"},
		{"< 5ms", "no metric"},
		{"p99 <", "no value"},
		{"p99 < 5%", "unit %"},
		{"events.failed < 3ms", `unit "ms" on a count metric`},
		{"rps < NaN", "not a number"},
		{"p99 < 0x10", "not a number"},
		{"voice.p99 < 1s", `unknown metric "voice.p99"`},
		{"requests.throttled.rate < 1ms", `unit "ms" on a ratio metric`},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := report.ParseThreshold(tc.expr)
			if !errors.Is(err, report.ErrThreshold) {
				t.Fatalf("got %v, want an error wrapping ErrThreshold", err)
			}
			if !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), strings.TrimSpace(tc.expr)) {
				t.Errorf("error %q does not name the expression and %q", err, tc.mention)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	r := synthRun(t, synthOpts{seed: 1})
	tests := []struct {
		expr   string
		ok     bool
		actual float64
	}{
		{"events.generated == 9465", true, 9465},
		{"events.failed == 0", false, 114},
		{"conversations.events.failed <= 55", true, 55},
		{"requests.retries == 51", true, 51},
		{"rps > 30", true, 30.6},
		{"conversations.p99 < 1ms", false, r.Endpoints["conversations"].Latency.P99},
		{"latency.p999 < 2s", true, r.Totals.Latency.P999},
		{"requests.throttled.rate < 1%", false, 51.0 / 918},
		{"presence.events.accepted.rate >= 90%", true, float64(r.Endpoints["presence"].Events.Accepted) / float64(r.Endpoints["presence"].Events.Generated)},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			th, err := report.ParseThreshold(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Evaluate([]report.Threshold{th}); got != tc.ok {
				t.Errorf("Evaluate = %v, want %v", got, tc.ok)
			}
			res := r.Thresholds[0]
			if res.OK != tc.ok || res.Expr != th.Expr {
				t.Errorf("result %+v, want ok %v", res, tc.ok)
			}
			if d := res.Actual - tc.actual; d > 1e-3 || d < -1e-3 {
				t.Errorf("actual %v, want %v", res.Actual, tc.actual)
			}
			if d := res.Delta - (res.Actual - res.Limit); d > 1e-6 || d < -1e-6 {
				t.Errorf("delta %v, want actual-limit %v", res.Delta, res.Actual-res.Limit)
			}
		})
	}
}

// readLines reads the non-empty lines of a testdata file.
func readLines(tb testing.TB, name string) []string {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func FuzzParseThreshold(f *testing.F) {
	for _, name := range []string{"thresholds/valid.txt", "thresholds/invalid.txt"} {
		for _, l := range readLines(f, name) {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := report.ParseThreshold(expr)
		if err != nil {
			if !errors.Is(err, report.ErrThreshold) {
				t.Fatalf("error %v does not wrap ErrThreshold", err)
			}
			return
		}
		// Round trip: the canonical form (plain number in the metric's
		// unit) parses to the same threshold.
		canon := th.Metric
		if th.Scope != "" {
			canon = th.Scope + "." + canon
		}
		canon += " " + th.Op.String() + " " + strconv.FormatFloat(th.Limit, 'g', -1, 64)
		back, err := report.ParseThreshold(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q: %v", canon, expr, err)
		}
		if back.Scope != th.Scope || back.Metric != th.Metric || back.Op != th.Op || back.Limit != th.Limit || back.Unit != th.Unit {
			t.Fatalf("round trip of %q via %q: got %+v, want %+v", expr, canon, back, th)
		}
	})
}
