package engine

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/loadgen/loadgen/internal/events"
)

// pacer turns a batch's close time into its intended send time under the
// rate limits. It reserves explicit slots with ReserveN(t, n) on the
// schedule's own times, never by waiting and then reading the clock, so
// pacing is exact and testable without real time. It is safe for
// concurrent use (rate.Limiter is).
type pacer struct {
	global      *rate.Limiter // requests over all endpoints; nil: none
	perEndpoint [events.NumEndpoints]*rate.Limiter
	events      *rate.Limiter // events over all endpoints
}

func newPacer(l Limits, maxEvents int) *pacer {
	p := &pacer{}
	lim := func(r float64, burst int) *rate.Limiter {
		if r <= 0 {
			return nil
		}
		// Burst 1: requests are spread evenly rather than sent in clumps.
		return rate.NewLimiter(rate.Limit(r), burst)
	}
	p.global = lim(l.RequestsPerSecond, 1)
	for i, r := range l.PerEndpoint {
		p.perEndpoint[i] = lim(r, 1)
	}
	// A batch must fit in the bucket or ReserveN refuses it.
	p.events = lim(l.EventsPerSecond, maxEvents)
	return p
}

// slot reserves one request of n events on endpoint ep, due no earlier than
// t, and returns when it may be sent. Each limiter is asked at the time the
// previous one allowed, so the answer satisfies all of them.
func (p *pacer) slot(t time.Time, ep events.Endpoint, n int) time.Time {
	t = reserve(p.global, t, 1)
	t = reserve(p.perEndpoint[ep], t, 1)
	return reserve(p.events, t, n)
}

func reserve(l *rate.Limiter, t time.Time, n int) time.Time {
	if l == nil {
		return t
	}
	if n > l.Burst() {
		n = l.Burst()
	}
	r := l.ReserveN(t, n)
	if !r.OK() {
		return t
	}
	return t.Add(r.DelayFrom(t))
}
