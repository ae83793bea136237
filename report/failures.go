package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/loadgen/loadgen/internal/events"
)

type failKey struct {
	ep      events.Endpoint
	outcome Outcome
	reason  string
}

type failGroup struct {
	count    int64
	examples []string
}

// failureSink groups failed events and streams failures.ndjson.
type failureSink struct {
	mu     sync.Mutex // guards all fields
	w      io.Writer
	buf    []byte
	groups map[failKey]*failGroup
	total  int64
	werr   error
}

func (f *failureSink) init(w io.Writer) {
	f.w = w
	f.groups = make(map[failKey]*failGroup)
}

// add records the events of r that did not end accepted.
func (f *failureSink) add(r *Result, stopping StopReason, now func() time.Time) {
	at := r.Done
	if r.Attempt == 0 || at.IsZero() {
		at = now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = f.buf[:0]
	for i := range r.Events {
		ev := &r.Events[i]
		if ev.Outcome == Accepted || ev.Outcome == Retry {
			continue
		}
		outcome := ev.Outcome
		if outcome > Retry {
			outcome = Failed
		}
		reason := failureReason(r, ev, outcome, stopping)
		f.total++
		k := failKey{ep: r.Endpoint, outcome: outcome, reason: reason}
		g := f.groups[k]
		if g == nil {
			if len(f.groups) >= maxFailureGroups {
				k.reason = otherReason
				g = f.groups[k]
			}
			if g == nil {
				g = &failGroup{}
				f.groups[k] = g
			}
		}
		g.count++
		if len(g.examples) < maxExamples {
			g.examples = append(g.examples, ev.ID)
		}
		if f.w != nil {
			f.buf = appendFailureLine(f.buf, r, ev, outcome, reason, at)
		}
	}
	if f.w != nil && len(f.buf) > 0 && f.werr == nil {
		// One Write per Result: lines reach the file whole, never torn by
		// a buffer boundary.
		if _, err := f.w.Write(f.buf); err != nil {
			f.werr = fmt.Errorf("%w: %w", ErrFailuresWrite, err)
		}
	}
}

func (f *failureSink) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.werr
}

// finish writes the groups into r, largest first; reasons recorded as bare
// "unsent" get the run's stop reason.
func (f *failureSink) finish(r *Run, stop StopReason) {
	f.mu.Lock()
	defer f.mu.Unlock()
	merged := make(map[[2]string]*FailureGroup, len(f.groups))
	for k, g := range f.groups {
		reason := k.reason
		if reason == "unsent" {
			reason = "unsent: " + string(stop)
		}
		key := [2]string{k.ep.String(), reason}
		fg := merged[key]
		if fg == nil {
			fg = &FailureGroup{Endpoint: k.ep.String(), Reason: reason, Outcome: k.outcome.String()}
			merged[key] = fg
		}
		fg.Count += g.count
		fg.ExampleEventIDs = appendExamples(fg.ExampleEventIDs, g.examples)
	}
	r.Failures = Failures{Total: f.total, ByReason: sortGroups(merged)}
}

func appendExamples(dst, src []string) []string {
	for _, id := range src {
		if len(dst) >= maxExamples {
			break
		}
		dst = append(dst, id)
	}
	return dst
}

func sortGroups(m map[[2]string]*FailureGroup) []FailureGroup {
	out := make([]FailureGroup, 0, len(m))
	for _, g := range m {
		sort.Strings(g.ExampleEventIDs)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		return a.Reason < b.Reason
	})
	return out
}

// failureReason is the stable short key an event's failure is grouped by.
func failureReason(r *Result, ev *EventResult, o Outcome, stopping StopReason) string {
	switch o {
	case Rejected:
		if ev.Message == "" {
			return "rejected"
		}
		return truncate(ev.Message, maxReasonLen)
	case Unsent:
		if stopping != "" {
			return "unsent: " + string(stopping)
		}
		return "unsent"
	}
	switch r.Kind {
	case ErrStatus, ErrThrottled:
		if r.Status > 0 {
			return "http " + strconv.Itoa(r.Status)
		}
	case ErrAuth:
		if r.Status > 0 {
			return "http " + strconv.Itoa(r.Status)
		}
		return "auth"
	case ErrNone:
		return "failed"
	}
	return r.Kind.String()
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// appendFailureLine appends one failures.ndjson line.
func appendFailureLine(b []byte, r *Result, ev *EventResult, o Outcome, reason string, at time.Time) []byte {
	b = append(b, `{"eventId":`...)
	b = events.AppendString(b, ev.ID)
	b = append(b, `,"endpoint":"`...)
	b = append(b, r.Endpoint.String()...)
	b = append(b, `","type":`...)
	b = events.AppendString(b, ev.Type.String())
	b = append(b, `,"outcome":"`...)
	b = append(b, o.String()...)
	b = append(b, `","reason":`...)
	b = events.AppendString(b, reason)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"message":`...)
	msg := ev.Message
	if msg == "" {
		msg = r.Error
	}
	b = events.AppendString(b, msg)
	b = append(b, `,"retryable":`...)
	b = strconv.AppendBool(b, ev.Retryable)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempt), 10)
	b = append(b, `,"time":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, "\"}\n"...)
	return b
}
