package report_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/report"
)

func TestCompare(t *testing.T) {
	base := synthRun(t, synthOpts{seed: 5})
	same := synthRun(t, synthOpts{seed: 5})
	doubled := synthRun(t, synthOpts{seed: 5, latencyScale: 2})
	tests := []struct {
		name      string
		head      *report.Run
		opts      report.CompareOptions
		regressed bool
		metrics   []string // metrics that must regress (on every endpoint)
	}{
		{"same seed passes", same, report.CompareOptions{Tolerance: 0.1}, false, nil},
		{"same seed passes with zero tolerance", same, report.CompareOptions{}, false, nil},
		{"doubled latency regresses", doubled, report.CompareOptions{Tolerance: 0.1}, true, []string{"p50", "p99", "p999"}},
		{"doubled latency within 150%", doubled, report.CompareOptions{Tolerance: 1.5}, false, nil},
		{"override loosens latency only", doubled, report.CompareOptions{Tolerance: 0.1, Overrides: map[string]float64{"p50": 2, "p99": 2, "p999": 2}}, false, nil},
		{"endpoint override wins", doubled, report.CompareOptions{Tolerance: 2, Overrides: map[string]float64{"presence.p99": 0.1}}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := report.Compare(base, tc.head, tc.opts)
			if got := c.Regressed(); got != tc.regressed {
				var b bytes.Buffer
				c.WriteText(&b)
				t.Fatalf("Regressed = %v, want %v\n%s", got, tc.regressed, b.String())
			}
			if len(c.Deltas) != 3*len(report.CompareMetricNames()) {
				t.Errorf("%d deltas, want %d", len(c.Deltas), 3*len(report.CompareMetricNames()))
			}
			for _, m := range tc.metrics {
				for _, d := range c.Deltas {
					if d.Metric == m && !d.Regressed {
						t.Errorf("%s %s: base %v head %v not flagged", d.Endpoint, m, d.Base, d.Head)
					}
				}
			}
			for _, d := range c.Deltas {
				if d.Metric == "p99" && tc.head == doubled && (d.Relative < 0.9 || d.Relative > 1.1) {
					t.Errorf("%s p99 relative change %v, want about +100%%", d.Endpoint, d.Relative)
				}
			}
		})
	}
}

func TestCompareThroughputAndRates(t *testing.T) {
	base := synthRun(t, synthOpts{seed: 5})
	head := synthRun(t, synthOpts{seed: 5, keep: func(b int) bool { return b%2 == 0 }})
	c := report.Compare(base, head, report.CompareOptions{Tolerance: 0.1})
	found := false
	for _, d := range c.Deltas {
		if d.Metric == "rps" {
			found = true
			if !d.Regressed || d.Change >= 0 {
				t.Errorf("%s rps base %v head %v: want a flagged drop", d.Endpoint, d.Base, d.Head)
			}
		}
	}
	if !found {
		t.Fatal("no rps delta")
	}
}

func TestCompareOutput(t *testing.T) {
	base := synthRun(t, synthOpts{seed: 5})
	doubled := synthRun(t, synthOpts{seed: 6, latencyScale: 2})
	c := report.Compare(base, doubled, report.CompareOptions{Tolerance: 0.1})
	var text, md bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"REGRESSED", "conversations", "p99", "different seeds: base 5, head 6", "REGRESSION:"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	for _, want := range []string{"| endpoint | metric |", "|---|", "❌ regressed", "different seeds"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestMergeHalvesEqualWhole(t *testing.T) {
	ths := []string{"conversations.p99 < 500ms", "events.failed == 0"}
	whole := synthRun(t, synthOpts{seed: 9, thresholds: ths})
	even := synthRun(t, synthOpts{seed: 9, thresholds: ths, keep: func(b int) bool { return b%2 == 0 }})
	odd := synthRun(t, synthOpts{seed: 9, thresholds: ths, keep: func(b int) bool { return b%2 == 1 }})
	even.Run.Shard, odd.Run.Shard = report.Shard{Index: 0, Count: 2}, report.Shard{Index: 1, Count: 2}
	m, err := report.Merge([]*report.Run{even, odd})
	if err != nil {
		t.Fatal(err)
	}
	if m.Totals.Events != whole.Totals.Events || m.Totals.Requests != whole.Totals.Requests || m.Totals.BytesOut != whole.Totals.BytesOut {
		t.Errorf("totals %+v, want %+v", m.Totals, whole.Totals)
	}
	if m.Totals.Latency != whole.Totals.Latency {
		t.Errorf("merged latency %+v, want %+v", m.Totals.Latency, whole.Totals.Latency)
	}
	for name, w := range whole.Endpoints {
		g := m.Endpoints[name]
		if g.Events != w.Events || g.Requests != w.Requests || g.Throttled != w.Throttled || g.Errors != w.Errors {
			t.Errorf("%s: counts %+v, want %+v", name, g, w)
		}
		for _, pair := range [][2]report.Summary{{g.Latency, w.Latency}, {g.ServiceTime, w.ServiceTime}, {g.ScheduleLag, w.ScheduleLag}, {g.EndToEnd, w.EndToEnd}} {
			got, want := pair[0], pair[1]
			if got.Count != want.Count {
				t.Errorf("%s: count %d, want %d", name, got.Count, want.Count)
			}
			// Same values recorded in the same geometry: HDR merge is
			// exact; allow HDR precision (0.1 %) regardless.
			for _, q := range [][2]float64{{got.P50, want.P50}, {got.P99, want.P99}, {got.P999, want.P999}, {got.Max, want.Max}, {got.Mean, want.Mean}} {
				if math.Abs(q[0]-q[1]) > want.Max*0.001+0.001 {
					t.Errorf("%s: percentile %v, want %v", name, q[0], q[1])
				}
			}
		}
		for code, n := range w.StatusCodes {
			if g.StatusCodes[code] != n {
				t.Errorf("%s: status %s = %d, want %d", name, code, g.StatusCodes[code], n)
			}
		}
	}
	for name, l := range whole.EventTypes {
		if *m.EventTypes[name] != *l {
			t.Errorf("type %s: %+v, want %+v", name, *m.EventTypes[name], *l)
		}
	}
	if m.Failures.Total != whole.Failures.Total || len(m.Failures.ByReason) != len(whole.Failures.ByReason) {
		t.Errorf("failures %d in %d groups, want %d in %d", m.Failures.Total, len(m.Failures.ByReason), whole.Failures.Total, len(whole.Failures.ByReason))
	}
	for i := range whole.Timeline {
		if m.Timeline[i].Requests != whole.Timeline[i].Requests || m.Timeline[i].Events != whole.Timeline[i].Events {
			t.Errorf("timeline second %d: %+v, want %+v", i, m.Timeline[i], whole.Timeline[i])
			break
		}
	}
	if len(m.Thresholds) != 2 || m.Thresholds[0] != whole.Thresholds[0] || m.Thresholds[1] != whole.Thresholds[1] {
		t.Errorf("thresholds %+v, want %+v", m.Thresholds, whole.Thresholds)
	}
	if m.Run.Merged != 2 || m.Run.Shard.Count != 2 || !m.Run.Valid {
		t.Errorf("run info %+v", m.Run)
	}
	// A merged run survives run.json and merges again.
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	again, err := report.Merge([]*report.Run{back})
	if err != nil || again.Totals.Latency != whole.Totals.Latency {
		t.Errorf("re-merge: %v, latency %+v", err, again.Totals.Latency)
	}
}

func TestMergeErrors(t *testing.T) {
	good := synthRun(t, synthOpts{seed: 1})
	badHist := synthRun(t, synthOpts{seed: 1})
	badHist.Endpoints["presence"].Histograms["latency"] = "bm90IGEgaGlzdG9ncmFt"
	tests := []struct {
		name string
		runs []*report.Run
		want error
	}{
		{"none", nil, report.ErrMerge},
		{"nil run", []*report.Run{good, nil}, report.ErrMerge},
		{"bad histogram", []*report.Run{good, badHist}, report.ErrSchema},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.Merge(tc.runs)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCompareEndpointPresence(t *testing.T) {
	all := synthRun(t, synthOpts{seed: 5})
	// Batches are spread over endpoints by index mod 3; keeping only
	// multiples of 3 leaves conversations alone.
	convOnly := synthRun(t, synthOpts{seed: 5, keep: func(b int) bool { return b%3 == 0 }})
	tests := []struct {
		name      string
		base      *report.Run
		head      *report.Run
		regressed bool
		warning   string
	}{
		{"endpoint appears in head", convOnly, all, false, "endpoint presence has no traffic in base"},
		{"endpoint vanishes from head", all, convOnly, true, "endpoint presence has no traffic in head"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := report.Compare(tc.base, tc.head, report.CompareOptions{Tolerance: 0.1})
			if c.Regressed() != tc.regressed {
				t.Errorf("Regressed = %v, want %v", c.Regressed(), tc.regressed)
			}
			if !strings.Contains(strings.Join(c.Warnings, "\n"), tc.warning) {
				t.Errorf("warnings %q lack %q", c.Warnings, tc.warning)
			}
		})
	}
}
