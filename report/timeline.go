package report

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// timelineWindow is how many per-second histograms are kept, in a ring
// indexed by second mod timelineWindow. Results reach the Collector in
// roughly Done order; one whose slot has already moved on to a later second
// (it is at least timelineWindow seconds late) still counts in its row's
// counters but not in the row's percentiles.
const timelineWindow = 8

// timeline keeps one row per second and a small ring of per-second latency
// histograms (2 significant digits, a few KB each), so memory stays flat
// apart from the rows themselves.
type timeline struct {
	mu   sync.Mutex // guards all fields
	rs   []Second
	ring [timelineWindow]tlSlot
	late int64
}

type tlSlot struct {
	sec int
	h   *hdr.Histogram
}

func (t *timeline) init() {
	for i := range t.ring {
		t.ring[i] = tlSlot{sec: -1, h: hdr.New(histLowest, histHighest, 2)}
	}
}

func (t *timeline) add(r *Result, start time.Time, lat, lag int64, nEvents int) {
	s := 0
	if d := r.Done.Sub(start); d > 0 {
		s = int(d / time.Second)
	}
	if s >= maxTimelineSeconds {
		s = maxTimelineSeconds - 1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.rs) <= s {
		t.rs = append(t.rs, Second{Second: len(t.rs)})
	}
	row := &t.rs[s]
	row.Requests++
	row.Events += int64(nEvents)
	switch r.Kind {
	case ErrNone:
	case ErrThrottled:
		row.Throttled++
	default:
		row.Errors++
	}
	if r.Attempt > 1 {
		row.Retries++
	}
	if l := ms(lag); l > row.LagMax {
		row.LagMax = l
	}
	if row.StatusCodes == nil {
		row.StatusCodes = make(map[string]int64, 2)
	}
	row.StatusCodes[statusKey(r)]++
	if r.Kind == ErrCanceled {
		return
	}
	slot := &t.ring[s%timelineWindow]
	if slot.sec != s {
		if s < slot.sec {
			t.late++
			return
		}
		t.flush(slot)
		slot.sec = s
	}
	_ = slot.h.RecordValue(lat)
}

// flush writes a slot's percentiles into its row and empties it.
func (t *timeline) flush(slot *tlSlot) {
	if slot.sec < 0 || slot.h.TotalCount() == 0 {
		return
	}
	q := slot.h.ValueAtPercentilesSlice([]float64{50, 99})
	t.rs[slot.sec].P50 = ms(q[0])
	t.rs[slot.sec].P99 = ms(q[1])
	slot.h.Reset()
}

func (t *timeline) flushAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.ring {
		t.flush(&t.ring[i])
	}
}

func (t *timeline) rows() []Second {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Second{}, t.rs...)
}
