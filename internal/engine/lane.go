package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// maxLaneBacklog caps one lane's queue, so that many lanes with a large
// Queued do not preallocate huge channels.
const maxLaneBacklog = 256

// maxResponse caps how much of a response body is read; the rest is
// discarded (and the connection not reused) rather than buffered.
const maxResponse = 1 << 20

var (
	jsonHeader = []string{"application/json"}
)

// lane sends one endpoint's batches, one request at a time, so the events
// of a key bound to it (see affinity) reach the target in order. Its buffers
// are reused for every attempt; it is used by its own goroutine only, but
// for finished, which the scheduler reads.
type lane struct {
	r   *run
	ep  events.Endpoint
	idx int
	ch  chan *batch

	res   report.Result
	timer *time.Timer
	tmpl  *http.Request // method, URL and protocol; cloned per attempt
	resp  []byte

	// body reads the request body: a plain *bytes.Reader in a NopCloser,
	// which the transport knows is in memory, so it sends headers and body
	// in one write instead of flushing the headers first and copying the
	// body through a fresh 32 KB buffer. The transport may still be
	// writing after RoundTrip returns; wrote (see armDeadline) tells when
	// it is done. An attempt that ends without that signal abandons the
	// reader and the batch's body buffer rather than wait or reuse them.
	reader *bytes.Reader
	body   io.ReadCloser
	wrote  chan struct{}

	// finished counts the batches this lane has carried to final outcomes,
	// in queue order; the scheduler reads it to free key bindings.
	finished atomic.Uint64

	// ctx carries the lane's requests, one at a time. It lives across
	// attempts: a context and a timer per attempt cost more CPU than the
	// rest of the lane's own work. deadline cancels it when an attempt
	// exceeds RequestTimeout; the next attempt then starts a fresh one.
	ctx      context.Context
	cancel   context.CancelFunc
	deadline *time.Timer

	token    string
	header   http.Header    // shared by every request; replaced, never modified
	errIndex map[string]int // eventId → index into errs, for long error lists
}

func newLane(r *run, ep events.Endpoint, idx int) *lane {
	l := &lane{r: r, ep: ep, idx: idx, ch: make(chan *batch, min(r.cfg.Limits.Queued, maxLaneBacklog))}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	l.newBody()
	l.header = http.Header{"Content-Type": jsonHeader, "Accept": jsonHeader}
	if u := r.urls[ep]; u != nil {
		l.tmpl = &http.Request{
			Method: http.MethodPost, URL: u, Host: u.Host,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}
	}
	return l
}

// newBody makes a fresh request body reader, leaving any old one to the
// transport.
func (l *lane) newBody() {
	l.reader = bytes.NewReader(nil)
	l.body = io.NopCloser(l.reader)
}

// abandonBody leaves b's body bytes and the lane's reader to a transport
// that may still be reading them, and the lane's context with its
// write signal to that request. b keeps a copy for its retries.
func (l *lane) abandonBody(b *batch) {
	b.body = append([]byte(nil), b.body...)
	l.newBody()
	l.dropContext()
}

func (l *lane) run() {
	for b := range l.ch {
		<-l.r.queued // the batch left the queue
		l.process(b)
		l.r.pool.Put(b)
		// Its events are final: their keys may move to another lane.
		l.finished.Add(1)
	}
	if l.ctx != nil {
		l.dropContext()
	}
}

// waitUntil blocks until t or the stop, reporting false when stopped.
func (l *lane) waitUntil(t time.Time) bool {
	if l.r.stop.Err() != nil {
		return false
	}
	return waitUntil(t, l.timer, l.r.stop.Done())
}

// verdict is how one attempt went.
type verdict struct {
	kind      report.ErrorKind
	status    int
	errs      []events.EventError // 2xx: events the target named
	retryWait time.Duration       // 429: Retry-After, when sent
	hasWait   bool
	token     string // the token the attempt carried
	err       error  // why no token could be had
}

// process carries b to a final outcome for every event.
func (l *lane) process(b *batch) {
	r, cfg := l.r, &l.r.cfg
	if cfg.Unpaced {
		if now := time.Now(); now.After(b.intended) {
			b.intended, b.firstIntended = now, now
		}
	}
	b.encode()
	attempt, tries := 0, 0
	authResent := false
	for {
		if !l.waitUntil(b.intended) {
			l.abandon(b, attempt)
			return
		}
		select {
		case r.sem <- struct{}{}:
		case <-r.stop.Done():
			l.abandon(b, attempt)
			return
		}
		attempt++
		tries++
		if attempt == 1 {
			r.budget.first()
		}
		v := l.attempt(b, attempt)
		<-r.sem
		res := &l.res

		retry := func() bool { return cfg.Retry.Mode == RetryClient && tries < cfg.Retry.MaxAttempts }
		switch {
		case v.kind == report.ErrNone:
			r.authStrikes.Store(0)
			nretry := l.judge(b, v.errs, retry())
			if nretry > 0 && !r.budget.take() {
				// The budget is spent: the retryable events fail.
				res.Kind = report.ErrBudget
				res.Error = "retry budget spent; retryable events not resent"
				for i := range res.Events {
					if res.Events[i].Outcome == report.Retry {
						res.Events[i].Outcome = report.Failed
					}
				}
				nretry = 0
			}
			r.emit(res)
			if nretry == 0 {
				return
			}
			l.keepRetried(b)
			l.reschedule(b, backoff(cfg.Retry.BaseBackoff, cfg.Retry.MaxBackoff, tries, jitter()))
			continue

		case v.status == http.StatusUnauthorized && cfg.Tokens != nil && !authResent:
			// One refresh and one resend, outside the retry policy: an
			// expired token is not the target's failure.
			authResent = true
			tries--
			l.all(report.Retry)
			r.emit(res)
			cfg.Tokens.Invalidate(v.token)
			b.intended = time.Now()
			continue

		case v.status == http.StatusUnauthorized || v.status == http.StatusForbidden:
			l.all(report.Failed)
			r.emit(res)
			if r.authStrikes.Add(1) >= 2 {
				r.fail(fmt.Errorf("engine: %w: %s answered HTTP %d %s twice in a row (%s)",
					ErrAuth, l.ep, v.status, http.StatusText(v.status), res.Error))
			}
			return

		case v.kind == report.ErrAuth: // the token endpoint refused us
			l.all(report.Failed)
			r.emit(res)
			r.fail(fmt.Errorf("engine: %s: getting a token: %w", l.ep, v.err))
			return

		case retryable(v):
			if !retry() {
				l.all(report.Failed)
				r.emit(res)
				return
			}
			wait := backoff(cfg.Retry.BaseBackoff, cfg.Retry.MaxBackoff, tries, jitter())
			if v.hasWait {
				if v.retryWait > cfg.Retry.MaxRetryAfter {
					res.Error += fmt.Sprintf("; Retry-After %s exceeds the %s cap", v.retryWait, cfg.Retry.MaxRetryAfter)
					l.all(report.Failed)
					r.emit(res)
					return
				}
				wait = v.retryWait
			}
			if !r.budget.take() {
				res.Kind = report.ErrBudget
				res.Error = "retry budget spent after: " + res.Error
				l.all(report.Failed)
				r.emit(res)
				return
			}
			l.all(report.Retry)
			r.emit(res)
			l.reschedule(b, wait)
			continue

		default: // other 4xx, 501, undecodable 2xx, cancelled
			l.all(report.Failed)
			r.emit(res)
			return
		}
	}
}

// retryable reports whether an attempt failed in a way worth retrying:
// throttled, 5xx other than 501, timeouts and connection errors.
func retryable(v verdict) bool {
	switch v.kind {
	case report.ErrThrottled, report.ErrTimeout, report.ErrConnection:
		return true
	case report.ErrStatus:
		return v.status >= 500 && v.status != http.StatusNotImplemented
	}
	return false
}

// reschedule sets the next attempt's intended time: wait from now, then
// a slot under the rate limits (a retry is a request like any other).
func (l *lane) reschedule(b *batch, wait time.Duration) {
	b.intended = l.r.pacer.slot(time.Now().Add(wait), b.ep, len(b.evs))
}

// all gives every event of the current Result one outcome.
func (l *lane) all(o report.Outcome) {
	for i := range l.res.Events {
		l.res.Events[i].Outcome = o
	}
}

// judge sets each event's outcome from a 2xx answer and returns how many
// will be retried.
func (l *lane) judge(b *batch, errs []events.EventError, canRetry bool) int {
	res := &l.res
	var find func(id string) int
	switch {
	case len(errs) == 0:
		find = func(string) int { return -1 }
	case len(errs) <= 8:
		find = func(id string) int {
			for i := range errs {
				if errs[i].EventID == id {
					return i
				}
			}
			return -1
		}
	default:
		if l.errIndex == nil {
			l.errIndex = make(map[string]int, len(errs))
		}
		clear(l.errIndex)
		for i := range errs {
			l.errIndex[errs[i].EventID] = i
		}
		find = func(id string) int {
			if i, ok := l.errIndex[id]; ok {
				return i
			}
			return -1
		}
	}
	n := 0
	for i := range res.Events {
		e := &res.Events[i]
		j := find(e.ID)
		if j < 0 {
			e.Outcome = report.Accepted
			continue
		}
		e.Message, e.Retryable = errs[j].Message, errs[j].Retryable
		if errs[j].Retryable && canRetry {
			e.Outcome = report.Retry
			n++
		} else {
			e.Outcome = report.Rejected
		}
	}
	return n
}

// keepRetried shrinks b to the events marked Retry in the last Result,
// keeping their order and eventIds, and re-encodes the body.
func (l *lane) keepRetried(b *batch) {
	kept := b.evs[:0]
	for i := range l.res.Events {
		if l.res.Events[i].Outcome == report.Retry {
			kept = append(kept, b.evs[i])
		}
	}
	b.evs = kept
	b.encode()
}

// abandon settles b when the run stopped before its next attempt.
func (l *lane) abandon(b *batch, attempts int) {
	if attempts == 0 {
		l.r.settle(&l.res, b, report.Unsent, report.ErrCanceled, "run stopped before the batch was sent")
		return
	}
	l.r.settle(&l.res, b, report.Failed, report.ErrCanceled, "run stopped before the retry was sent")
}

// dryRun checks b as a real send would and reports it Unsent, using res.
func (r *run) dryRun(res *report.Result, b *batch) {
	cfg := &r.cfg
	if now := time.Now(); now.After(b.intended) {
		b.intended, b.firstIntended = now, now
	}
	b.encode()
	if len(b.body) != b.size {
		r.settle(res, b, report.Failed, report.ErrStatus, fmt.Sprintf("internal: body is %d bytes, batcher counted %d", len(b.body), b.size))
		return
	}
	if len(b.evs) > cfg.Batch.MaxEvents || len(b.body) > cfg.Batch.MaxBytes {
		r.settle(res, b, report.Failed, report.ErrStatus,
			fmt.Sprintf("batch of %d events and %d bytes exceeds the limits (%d events, %d bytes)", len(b.evs), len(b.body), cfg.Batch.MaxEvents, cfg.Batch.MaxBytes))
		return
	}
	r.settle(res, b, report.Unsent, report.ErrNone, "dry run")
}

// attempt sends b once and fills l.res, leaving the event outcomes to the
// caller.
func (l *lane) attempt(b *batch, attempt int) verdict {
	r := l.r
	res := &l.res
	*res = report.Result{
		Endpoint:      b.ep,
		Batch:         b.seq,
		Attempt:       attempt,
		FirstIntended: b.firstIntended,
		Intended:      b.intended,
		BytesOut:      len(b.body),
		Events:        res.Events[:0],
	}
	for i := range b.evs {
		res.Events = append(res.Events, report.EventResult{ID: b.evs[i].ID, Type: b.evs[i].Type})
	}
	var v verdict
	if r.cfg.Tokens != nil {
		tok, err := r.cfg.Tokens.Token(r.send)
		if err != nil {
			res.Sent = time.Now()
			res.Done = res.Sent
			res.Kind = report.ErrConnection
			if errors.Is(err, ErrAuth) {
				res.Kind = report.ErrAuth
			} else if r.send.Err() != nil {
				res.Kind = report.ErrCanceled
			}
			res.Error = "getting a token: " + err.Error()
			v.kind, v.err = res.Kind, err
			return v
		}
		if tok != l.token {
			l.token = tok
			// A new map: requests still in the transport read the old one.
			l.header = http.Header{"Content-Type": jsonHeader, "Accept": jsonHeader,
				"Authorization": []string{"Bearer " + tok}}
		}
		v.token = tok
	}

	ctx := l.armDeadline()
	defer l.disarmDeadline()
	req := l.tmpl.WithContext(ctx)
	req.Header = l.header
	if !r.zeroCopy {
		req.Header = l.header.Clone()
	}
	l.reader.Reset(b.body)
	req.Body = l.body
	req.ContentLength = int64(len(b.body))

	res.Sent = time.Now()
	var resp *http.Response
	var err error
	if r.rt != nil {
		resp, err = r.rt.RoundTrip(req)
	} else {
		resp, err = r.hc.Do(req)
	}
	if err != nil {
		res.Done = time.Now()
		// The write may not have started, or may go on: no signal to wait for.
		res.Kind = l.transportKind(ctx)
		l.abandonBody(b)
		res.Error = l.redact(err.Error())
		v.kind = res.Kind
		return v
	}
	l.resp, err = readBody(l.resp[:0], resp.Body)
	resp.Body.Close()
	res.Done = time.Now()
	res.Status = resp.StatusCode
	v.status = resp.StatusCode
	if err != nil {
		res.Kind = l.transportKind(ctx)
		res.Error = l.redact(fmt.Sprintf("HTTP %d: reading the response: %v", resp.StatusCode, err))
		v.kind = res.Kind
		l.abandonBody(b)
		return v
	}
	// A server may answer before reading the whole body; the transport
	// then goes on writing it. Wait for the write, bounded by the deadline.
	// Without that signal (another transport), never reuse the body.
	if !r.zeroCopy {
		l.abandonBody(b)
	} else {
		select {
		case <-l.wrote:
		case <-ctx.Done():
			l.abandonBody(b)
		}
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s <= 299:
		errs, err := parseBatchResponse(l.resp)
		if err != nil {
			res.Kind = report.ErrDecode
			res.Error = l.redact(fmt.Sprintf("HTTP %d: %v", s, err))
		}
		v.errs = errs
	case s == http.StatusTooManyRequests:
		res.Kind = report.ErrThrottled
		res.Error = l.redact(describeError(s, l.resp))
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		res.Kind = report.ErrAuth
		res.Error = l.redact(describeError(s, l.resp))
	default:
		res.Kind = report.ErrStatus
		res.Error = l.redact(describeError(s, l.resp))
	}
	// 429 and 503 carry Retry-After; the SDKs honour it on any 5xx too.
	if s := resp.StatusCode; s == http.StatusTooManyRequests || s >= 500 {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), res.Done); ok {
			res.RetryAfter, v.retryWait, v.hasWait = d, d, true
		}
	}
	v.kind = res.Kind
	return v
}

// armDeadline returns the context for one attempt, cancelled after
// RequestTimeout; disarmDeadline must follow the attempt.
func (l *lane) armDeadline() context.Context {
	if l.ctx == nil {
		// A timer's func cancels the context it was made with, so a fresh
		// context (rare: after a timeout) gets a fresh timer.
		ctx, cancel := context.WithCancel(l.r.send)
		wrote := make(chan struct{}, 1)
		// One signal per request written. The transport writes a request
		// once: it does not resend a body it cannot rewind (no GetBody).
		l.ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) {
				select {
				case wrote <- struct{}{}:
				default:
				}
			},
		})
		l.cancel, l.wrote = cancel, wrote
		l.deadline = time.AfterFunc(time.Hour, cancel)
	}
	// A signal left over from an earlier request (a transport that wrote
	// twice) must not release this request's body.
	select {
	case <-l.wrote:
	default:
	}
	l.deadline.Reset(l.r.cfg.RequestTimeout)
	return l.ctx
}

// disarmDeadline stops the attempt's deadline. When it fired (or is
// firing), the context is done and the next attempt gets a new one.
func (l *lane) disarmDeadline() {
	if l.ctx == nil {
		return // dropped by abandonBody
	}
	if !l.deadline.Stop() || l.ctx.Err() != nil {
		l.dropContext()
	}
}

// dropContext cancels the lane's context; the next attempt makes a new one.
func (l *lane) dropContext() {
	l.deadline.Stop()
	l.cancel()
	l.ctx, l.cancel, l.wrote = nil, nil, nil
}

// transportKind classifies a failed request or body read.
func (l *lane) transportKind(ctx context.Context) report.ErrorKind {
	switch {
	case l.r.send.Err() != nil:
		return report.ErrCanceled
	case ctx.Err() != nil:
		return report.ErrTimeout
	}
	return report.ErrConnection
}

// redact removes the current token from a message in case a server or a
// transport error echoed it.
func (l *lane) redact(s string) string {
	if l.token != "" && strings.Contains(s, l.token) {
		s = strings.ReplaceAll(s, l.token, "[redacted]")
	}
	return s
}

// readBody appends up to maxResponse bytes of r to dst and discards the
// rest, so the connection can be reused.
func readBody(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			if len(dst) >= maxResponse {
				_, err := io.Copy(io.Discard, io.LimitReader(r, 4*maxResponse))
				return dst, err
			}
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):min(cap(dst), maxResponse)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
