package report

import (
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: microseconds from 1 µs to 1 h, 3 significant digits.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// Names of the per-endpoint histograms in run.json.
const (
	histLatency      = "latency"
	histServiceTime  = "serviceTime"
	histScheduleLag  = "scheduleLag"
	histEndToEnd     = "endToEnd"
	histFirstAttempt = "firstAttempt"
)

// histNames lists the histograms in a fixed order.
var histNames = [...]string{histLatency, histServiceTime, histScheduleLag, histEndToEnd, histFirstAttempt}

func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histDigits) }

// micros converts d to whole microseconds clamped to the histogram's range,
// so an out-of-range value lands in the last bucket instead of being lost.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	switch {
	case us < 0:
		return 0
	case us > histHighest:
		return histHighest
	}
	return us
}

// ms converts microseconds to milliseconds, rounded to 1 µs.
func ms(us int64) float64 { return float64(us) / 1000 }

// round3 rounds to three decimals so JSON stays readable and stable.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// summarize returns h's summary in milliseconds.
func summarize(h *hdr.Histogram) Summary {
	n := h.TotalCount()
	if n == 0 {
		return Summary{}
	}
	q := h.ValueAtPercentilesSlice([]float64{50, 90, 95, 99, 99.9})
	return Summary{
		Count: n,
		Min:   ms(h.Min()),
		Mean:  round3(h.Mean() / 1000),
		P50:   ms(q[0]),
		P90:   ms(q[1]),
		P95:   ms(q[2]),
		P99:   ms(q[3]),
		P999:  ms(q[4]),
		Max:   ms(h.Max()),
	}
}

func encodeHist(h *hdr.Histogram) (string, error) {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// decodeHist decodes a run.json histogram; an empty string is an empty
// histogram.
func decodeHist(s string) (*hdr.Histogram, error) {
	if s == "" {
		return newHist(), nil
	}
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: histogram: %w", ErrSchema, err)
	}
	return h, nil
}

// percentilePoint is one point of a percentile plot: the latency in
// milliseconds at a percentile.
type percentilePoint struct {
	Percentile float64
	Millis     float64
}

// percentileCurve samples h at percentiles from 0 to 99.99 spaced evenly on
// the 1/(1−q) log scale HDR plots use.
func percentileCurve(h *hdr.Histogram) []percentilePoint {
	if h.TotalCount() == 0 {
		return nil
	}
	var ps []float64
	for x := 0.0; x <= 4.0001; x += 0.125 {
		ps = append(ps, 100*(1-math.Pow(10, -x)))
	}
	vs := h.ValueAtPercentilesSlice(ps)
	out := make([]percentilePoint, len(ps))
	for i := range ps {
		out[i] = percentilePoint{Percentile: ps[i], Millis: ms(vs[i])}
	}
	return out
}
