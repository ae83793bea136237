package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once; templates are safe for concurrent use.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":    func(v float64) string { return fmtFloat(v) },
	"value": fmtValue,
	"delta": fmtDelta,
	"pct": func(n, d int64) string {
		if d == 0 {
			return "–"
		}
		return fmtFloat(float64(n)*100/float64(d)) + "%"
	},
	"bytes": fmtBytes,
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
}).Parse(htmlSource))

type htmlEndpoint struct {
	Name   string
	Stats  *EndpointStats
	Rate   string
	EvRate string
	Codes  []codeCount
	Chart  template.HTML
}

type codeCount struct {
	Code  string
	Count int64
}

type htmlSummary struct {
	Name string
	S    Summary
}

type htmlType struct {
	Name string
	L    *Ledger
}

type htmlPage struct {
	R            *Run
	Duration     string
	Verdict      string
	VerdictClass string
	Failing      int
	Endpoints    []htmlEndpoint
	Types        []htmlType
	Latencies    []htmlSummary
	Charts       []template.HTML
	Reqs         string
	Evs          string
}

// WriteHTML writes report.html: one self-contained page (inline CSS, inline
// SVG charts, a few lines of inline script to filter the failure table; no
// network access at all) that reads well on a laptop and in print.
func WriteHTML(w io.Writer, r *Run) error {
	p := htmlPage{R: r, Duration: r.Run.Duration().Round(time.Millisecond).String(), Verdict: r.Verdict()}
	switch {
	case !r.Run.Valid:
		p.VerdictClass = "warn"
	case r.Passed():
		p.VerdictClass = "ok"
	default:
		p.VerdictClass = "bad"
	}
	for _, t := range r.Thresholds {
		if !t.OK {
			p.Failing++
		}
	}
	secs := r.Run.Duration().Seconds()
	p.Reqs, p.Evs = fmtRate(r.Totals.Requests.Sent, secs), fmtRate(r.Totals.Events.Sent, secs)
	for _, name := range r.endpointNames() {
		st := r.Endpoints[name]
		e := htmlEndpoint{Name: name, Stats: st, Rate: fmtRate(st.Requests, secs), EvRate: fmtRate(st.Events.Sent, secs)}
		for code, n := range st.StatusCodes {
			e.Codes = append(e.Codes, codeCount{code, n})
		}
		sort.Slice(e.Codes, func(i, j int) bool { return e.Codes[i].Code < e.Codes[j].Code })
		if st.Requests > 0 {
			ch, err := percentileChart(name, st)
			if err != nil {
				return fmt.Errorf("report: html: endpoints.%s: %w", name, err)
			}
			e.Chart = ch
		}
		p.Endpoints = append(p.Endpoints, e)
		p.Latencies = append(p.Latencies,
			htmlSummary{name + " latency", st.Latency},
			htmlSummary{name + " service time", st.ServiceTime},
			htmlSummary{name + " schedule lag", st.ScheduleLag},
			htmlSummary{name + " end to end", st.EndToEnd})
	}
	for _, name := range r.typeNames() {
		p.Types = append(p.Types, htmlType{name, r.EventTypes[name]})
	}
	p.Charts = timelineCharts(r.Timeline)
	if err := htmlTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// percentileChart plots latency, service time and end-to-end latency
// against percentile on the HDR log scale.
func percentileChart(name string, st *EndpointStats) (template.HTML, error) {
	c := chart{id: "pct-" + name, title: name + ": latency by percentile", yLabel: "ms",
		xTicks: percentileTicks, xMin: 0, xMax: 4, xLabel: "percentile"}
	// End to end is drawn first and dashed: without retries it equals
	// latency, which must stay visible on top of it.
	for _, s := range []struct {
		hist, label, color string
		dashed             bool
	}{
		{histEndToEnd, "end to end", e2eColor, true}, {histServiceTime, "service time", serviceColor, false}, {histLatency, "latency", latencyColor, false},
	} {
		h, err := decodeHist(st.Histograms[s.hist])
		if err != nil {
			return "", err
		}
		var pts []point
		for _, pp := range percentileCurve(h) {
			pts = append(pts, point{percentileX(pp.Percentile), pp.Millis})
		}
		c.series = append(c.series, series{name: s.label, color: s.color, points: pts, dashed: s.dashed})
	}
	return c.render(), nil
}

// timelineCharts draws the per-second charts.
func timelineCharts(tl []Second) []template.HTML {
	pick := func(f func(s *Second) float64) []point {
		pts := make([]point, len(tl))
		for i := range tl {
			pts[i] = point{float64(tl[i].Second), f(&tl[i])}
		}
		return downsample(pts)
	}
	lat := chart{id: "latency-time", title: "Latency over time", yLabel: "ms", xLabel: "seconds", series: []series{
		{name: "p50", color: p50Color, points: pick(func(s *Second) float64 { return s.P50 })},
		{name: "p99", color: p99Color, points: pick(func(s *Second) float64 { return s.P99 })},
	}}
	rps := chart{id: "requests-time", title: "Requests per second", yLabel: "requests/s", xLabel: "seconds", series: []series{
		{name: "requests/s", color: rpsColor, points: pick(func(s *Second) float64 { return float64(s.Requests) })},
	}}
	eps := chart{id: "events-time", title: "Events per second", yLabel: "events/s", xLabel: "seconds", series: []series{
		{name: "events/s", color: latencyColor, points: pick(func(s *Second) float64 { return float64(s.Events) })},
	}}
	codes := map[string]bool{}
	for i := range tl {
		for k := range tl[i].StatusCodes {
			codes[k] = true
		}
	}
	var keys []string
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	st := chart{id: "status-time", title: "Status codes, throttling and retries per second", yLabel: "requests/s", xLabel: "seconds"}
	for i, k := range keys {
		color := palette[i%len(palette)]
		if n, err := strconv.Atoi(k); err == nil {
			switch {
			case n >= 200 && n < 300:
				color = "#16a34a"
			case n == 429:
				color = "#d97706"
			}
		}
		st.series = append(st.series, series{name: k, color: color, points: pick(func(s *Second) float64 { return float64(s.StatusCodes[k]) })})
	}
	st.series = append(st.series,
		series{name: "throttled", color: "#f59e0b", points: pick(func(s *Second) float64 { return float64(s.Throttled) })},
		series{name: "retries", color: "#7c3aed", points: pick(func(s *Second) float64 { return float64(s.Retries) })})
	lag := chart{id: "lag-time", title: "Schedule lag (max per second)", yLabel: "ms", xLabel: "seconds", series: []series{
		{name: "lag max", color: lagColor, points: pick(func(s *Second) float64 { return s.LagMax })},
	}}
	return []template.HTML{lat.render(), rps.render(), eps.render(), st.render(), lag.render()}
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
