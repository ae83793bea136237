package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date,
// relative to now. ok is false when v is empty or malformed; a date in the
// past gives 0.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		// Genesys sends integer seconds; fractions are tolerated.
		if s < 0 || s != s || s > 1e9 {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d = t.Sub(now); d < 0 {
		d = 0
	}
	return d, true
}

// backoff returns the wait before retry number n (1 = the first retry):
// full jitter, uniform in [0, min(max, base·2^(n-1))], so that lanes hit by
// one outage do not come back in step. u is a uniform sample in [0, 1).
func backoff(base, limit time.Duration, n int, u float64) time.Duration {
	ceil := limit
	if n < 40 {
		if c := base << (n - 1); c > 0 && c < limit {
			ceil = c
		}
	}
	return time.Duration(u * float64(ceil))
}

// jitter draws from the runtime's per-goroutine generator (no shared state).
func jitter() float64 { return rand.Float64() }

// budget caps retries at share·firsts + floor. It is safe for concurrent
// use.
type budget struct {
	share   float64
	floor   int64
	firsts  atomic.Int64
	retries atomic.Int64
}

func (b *budget) first() { b.firsts.Add(1) }

// take claims one retry, reporting false when the budget is spent.
func (b *budget) take() bool {
	if b.share < 0 {
		b.retries.Add(1)
		return true
	}
	n := b.retries.Add(1)
	if float64(n) > b.share*float64(b.firsts.Load())+float64(b.floor) {
		b.retries.Add(-1)
		return false
	}
	return true
}

// parseBatchResponse reads a 2xx body. The common answers (empty, {},
// {"errors":[]}) take a fast path that allocates nothing.
func parseBatchResponse(body []byte) ([]events.EventError, error) {
	t := bytes.TrimSpace(body)
	switch {
	case len(t) == 0, string(t) == "{}", string(t) == `{"errors":[]}`:
		return nil, nil
	}
	var r events.BatchEventResponse
	if err := json.Unmarshal(t, &r); err != nil {
		return nil, fmt.Errorf("response is not a BatchEventResponse: %v", err)
	}
	return r.Errors, nil
}

// describeError turns a non-2xx body into Result.Error: the Genesys error
// body's message and code when it is one, else the status text and a short,
// printable excerpt.
func describeError(status int, body []byte) string {
	var eb events.ErrorBody
	if len(body) > 0 && json.Unmarshal(body, &eb) == nil && (eb.Message != "" || eb.Code != "") {
		msg := eb.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		if eb.Code != "" {
			msg += " (" + eb.Code + ")"
		}
		return fmt.Sprintf("HTTP %d: %s", status, msg)
	}
	msg := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if ex := excerpt(body, 120); ex != "" {
		msg += ": " + ex
	}
	return msg
}

// excerpt returns up to n bytes of b with control characters and invalid
// UTF-8 replaced, for one-line messages.
func excerpt(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[:n]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(string(b), "?"))
}
