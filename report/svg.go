package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Chart geometry (SVG user units; the SVG scales to its container).
const (
	chartW, chartH                         = 720, 240
	padLeft, padRight, padTop, padBottom   = 64, 16, 30, 34
	plotW                                  = chartW - padLeft - padRight
	plotH                                  = chartH - padTop - padBottom
	maxChartPoints                         = 1200
	chartFont                              = `font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"`
	axisColor, gridColor, textColor        = "#8a94a6", "#e3e7ee", "#3b4352"
	latencyColor, serviceColor, e2eColor   = "#2563eb", "#16a34a", "#9333ea"
	p50Color, p99Color, lagColor, rpsColor = "#2563eb", "#dc2626", "#d97706", "#0891b2"
)

// palette colours series that have no fixed colour (status codes).
var palette = []string{"#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d"}

type point struct{ x, y float64 }

type series struct {
	name   string
	color  string
	points []point
	dashed bool // drawn dashed, for a series that often overlaps another
}

type tick struct {
	at    float64
	label string
}

type chart struct {
	id     string
	title  string
	yLabel string
	series []series
	// xTicks, when set, replace the automatic x ticks; xLog maps x with
	// the caller's own transform already applied (percentile plots).
	xTicks []tick
	xMin   float64
	xMax   float64
	xLabel string
}

// render draws the chart as inline SVG. Values are plain numbers and all
// text is escaped, so the result is safe to insert unescaped.
func (c chart) render() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg" %s font-size="11">`,
		html.EscapeString(c.id), chartW, chartH, html.EscapeString(c.title), chartFont)
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" font-weight="600" fill="%s">%s</text>`, padLeft, textColor, html.EscapeString(c.title))
	// Data ranges.
	xMin, xMax := c.xMin, c.xMax
	yMax := 0.0
	n := 0
	for _, s := range c.series {
		for _, p := range s.points {
			if n == 0 && c.xTicks == nil {
				xMin, xMax = p.x, p.x
			}
			if c.xTicks == nil {
				xMin, xMax = math.Min(xMin, p.x), math.Max(xMax, p.x)
			}
			yMax = math.Max(yMax, p.y)
			n++
		}
	}
	if n == 0 {
		fmt.Fprintf(&b, `<text class="nodata" x="%d" y="%d" text-anchor="middle" fill="%s">no data</text></svg>`, chartW/2, chartH/2, axisColor)
		return template.HTML(b.String())
	}
	if xMax <= xMin {
		xMax = xMin + 1
	}
	yTicks, yTop := niceTicks(yMax)
	sx := func(x float64) float64 { return padLeft + (x-xMin)/(xMax-xMin)*plotW }
	sy := func(y float64) float64 { return padTop + plotH - y/yTop*plotH }
	// Grid and y axis.
	for _, t := range yTicks {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padLeft, padLeft+plotW, y, y, gridColor)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>`, padLeft-6, y+4, textColor, fmtTick(t))
	}
	fmt.Fprintf(&b, `<text x="12" y="%d" fill="%s" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>`, padTop+plotH/2, textColor, padTop+plotH/2, html.EscapeString(c.yLabel))
	// X axis.
	xt := c.xTicks
	if xt == nil {
		vals, _ := niceTicks(xMax - xMin)
		for _, v := range vals {
			xt = append(xt, tick{at: xMin + v, label: fmtTick(xMin + v)})
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"/>`, padLeft, padLeft+plotW, padTop+plotH, padTop+plotH, axisColor)
	for _, t := range xt {
		if t.at < xMin-1e-9 || t.at > xMax+1e-9 {
			continue
		}
		x := sx(t.at)
		anchor := "middle"
		if x > padLeft+plotW-20 {
			anchor = "end" // keep the last label inside the picture
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s"/>`, x, x, padTop+plotH, padTop+plotH+4, axisColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" fill="%s">%s</text>`, x, padTop+plotH+16, anchor, textColor, html.EscapeString(t.label))
	}
	if c.xLabel != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, padLeft+plotW, chartH-2, axisColor, html.EscapeString(c.xLabel))
	}
	// Series and legend.
	lx := float64(chartW - padRight)
	for i := len(c.series) - 1; i >= 0; i-- {
		s := c.series[i]
		w := float64(len(s.name))*6.2 + 22
		lx -= w
		fmt.Fprintf(&b, `<rect x="%.1f" y="8" width="10" height="10" rx="2" fill="%s"/><text x="%.1f" y="17" fill="%s">%s</text>`, lx, s.color, lx+14, textColor, html.EscapeString(s.name))
	}
	for _, s := range c.series {
		if len(s.points) == 0 {
			continue
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="1.8" stroke-linejoin="round"%s points="`, s.color, dash)
		for i, p := range s.points {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", sx(p.x), sy(p.y))
		}
		b.WriteString(`"><title>`)
		b.WriteString(html.EscapeString(s.name))
		b.WriteString(`</title></polyline>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceTicks returns about five round tick values from 0 covering max, and
// the top of the axis.
func niceTicks(max float64) ([]float64, float64) {
	if !(max > 1e-9) || max > 1e15 || math.IsInf(max, 0) {
		// Nothing sensible to divide (no data, or values from a damaged
		// run.json): one plain step keeps the loop below bounded.
		if max > 1e15 && !math.IsInf(max, 0) {
			return []float64{0, max}, max
		}
		return []float64{0, 1}, 1
	}
	raw := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	top := math.Ceil(max/step) * step
	var ts []float64
	for i := 0; i <= 12; i++ {
		v := float64(i) * step
		if v > top+step/2 {
			break
		}
		ts = append(ts, v)
	}
	return ts, top
}

func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e6:
		return fmtFloat(v/1e6) + "M"
	case math.Abs(v) >= 1e4:
		return fmtFloat(v/1e3) + "k"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmtFloat(math.Round(v*100) / 100)
}

// downsample keeps at most maxChartPoints points by taking the maximum of
// each bucket, so spikes stay visible.
func downsample(pts []point) []point {
	if len(pts) <= maxChartPoints {
		return pts
	}
	size := (len(pts) + maxChartPoints - 1) / maxChartPoints
	out := make([]point, 0, maxChartPoints)
	for i := 0; i < len(pts); i += size {
		p := pts[i]
		for _, q := range pts[i:min(i+size, len(pts))] {
			p.y = math.Max(p.y, q.y)
		}
		out = append(out, p)
	}
	return out
}

// percentileX maps a percentile to the log scale of HDR plots: 0 → 0,
// 90 → 1, 99 → 2, 99.9 → 3, 99.99 → 4.
func percentileX(p float64) float64 {
	if p >= 100 {
		return 4
	}
	return math.Min(4, -math.Log10(1-p/100))
}

var percentileTicks = []tick{{0, "p0"}, {1, "p90"}, {2, "p99"}, {3, "p99.9"}, {4, "p99.99"}}
