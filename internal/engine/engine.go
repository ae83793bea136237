package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// lookahead is how far ahead of the clock the scheduler may batch an event
// instead of arming a timer. Batching early sends nothing early: a batch's
// intended time comes from the schedule and its lane waits for it.
const lookahead = time.Millisecond

// run is the state of one Run.
type run struct {
	cfg  Config
	sink Sink
	hc   *http.Client
	rt   http.RoundTripper // set when hc is ours: requests skip http.Client
	// zeroCopy: lanes share header maps and reuse body buffers (rt is a
	// *http.Transport); see Run.
	zeroCopy bool
	urls     [events.NumEndpoints]*url.URL

	pacer  *pacer
	budget budget
	sem    chan struct{} // in-flight slots
	queued chan struct{} // slots for closed batches waiting in lane queues

	// stop ends the run: no more events are taken, no new attempt starts.
	stop   context.Context
	stopFn context.CancelCauseFunc
	// send carries the requests; it outlives stop by up to DrainTimeout.
	send       context.Context
	sendCancel context.CancelFunc

	failOnce sync.Once
	failErr  error // the error that stopped the run, returned by Run

	authStrikes atomic.Int32
	pool        sync.Pool // *batch

	generated, accepted, rejected, failed, unsent atomic.Uint64
	requests, retries, batches, bytesOut          atomic.Uint64
}

// Run sends the events of src to cfg.Target until src returns io.EOF or ctx
// is cancelled, and reports every event's fate through sink. Every event
// taken from src ends in exactly one final outcome.
//
// Before anything is taken from src, Run checks the target: it dials it
// (failing with ErrUnreachable) and fetches a token when cfg.Tokens is set
// (ErrAuth when refused). Cancelling ctx is a normal stop: Run then returns
// a nil error and Summary.Cause says why. Errors that stop the run (auth
// refused mid-run, a failing Source) are returned with the Summary.
//
// Run is safe to call concurrently with separate sinks and sources.
func Run(ctx context.Context, cfg Config, src Source, sink Sink) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, fmt.Errorf("engine: %w", err)
	}
	if src == nil || sink == nil {
		return Summary{}, fmt.Errorf("engine: %w: Run needs a Source and a Sink", ErrConfig)
	}
	r := &run{cfg: cfg, sink: sink}
	if !cfg.DryRun {
		base := strings.TrimRight(cfg.Target, "/")
		for _, ep := range events.Endpoints() {
			u, err := url.Parse(base + ep.Path())
			if err != nil {
				return Summary{}, fmt.Errorf("engine: %w: Target %q: %v", ErrConfig, cfg.Target, err)
			}
			r.urls[ep] = u
		}
		if !cfg.SkipPreflight {
			if err := preflight(ctx, cfg); err != nil {
				if ctx.Err() != nil {
					// Stopped while checking: a normal stop, not a bad target.
					now := time.Now()
					return Summary{Start: now, End: now, Cause: context.Cause(ctx)}, nil
				}
				return Summary{}, fmt.Errorf("engine: %w", err)
			}
		}
	}
	r.hc = cfg.HTTPClient
	if r.hc == nil {
		r.hc = newHTTPClient(cfg.Limits.MaxInFlight)
		defer r.hc.CloseIdleConnections()
	}
	if r.hc.Jar == nil {
		// Without cookies, http.Client adds only redirects (unwanted for
		// these POSTs) and a timeout (RequestTimeout does that), at the
		// cost of per-request header copies: call the transport itself.
		r.rt = r.hc.Transport
		if r.rt == nil {
			r.rt = http.DefaultTransport
		}
	}
	// Sharing a lane's header map and reusing its body buffer across
	// requests is safe only with net/http's own transport called directly:
	// it never modifies the header, writes a body once, and reports the end
	// of the write (WroteRequest). A cookie jar (http.Client adds cookies to
	// the header) or another RoundTripper gets a header copy and a body that
	// is never reused.
	_, std := r.rt.(*http.Transport)
	r.zeroCopy = std
	r.pacer = newPacer(cfg.Limits, cfg.Batch.MaxEvents)
	r.budget = budget{share: cfg.Retry.Budget, floor: int64(cfg.Retry.BudgetFloor)}
	r.sem = make(chan struct{}, cfg.Limits.MaxInFlight)
	r.queued = make(chan struct{}, cfg.Limits.Queued)
	r.pool.New = func() any { return &batch{} }
	r.stop, r.stopFn = context.WithCancelCause(ctx)
	defer r.stopFn(nil)
	r.send, r.sendCancel = context.WithCancel(context.WithoutCancel(ctx))
	defer r.sendCancel()

	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	sum := Summary{Start: start}

	// Lanes: one goroutine each, fed through a bounded queue.
	var lanes sync.WaitGroup
	all := make([][]*lane, events.NumEndpoints)
	for ep := range all {
		all[ep] = make([]*lane, cfg.Limits.Lanes)
		for i := range all[ep] {
			l := newLane(r, events.Endpoint(ep), i)
			all[ep][i] = l
			lanes.Add(1)
			go func() {
				defer lanes.Done()
				l.run()
			}()
		}
	}

	// Drain: once stopped, in-flight requests get DrainTimeout to finish.
	finished := make(chan struct{})
	var drainer sync.WaitGroup
	drainer.Add(1)
	go func() {
		defer drainer.Done()
		select {
		case <-r.stop.Done():
		case <-finished:
			return
		}
		t := time.NewTimer(cfg.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			r.sendCancel()
		case <-finished:
		}
	}()

	s := newScheduler(r, all, start)
	s.loop(src)
	for _, ls := range all {
		for _, l := range ls {
			close(l.ch)
		}
	}
	lanes.Wait()
	close(finished)
	drainer.Wait()

	sum.End = time.Now()
	if r.stop.Err() != nil {
		sum.Cause = context.Cause(r.stop)
	}
	sum.Generated = r.generated.Load()
	sum.Accepted, sum.Rejected = r.accepted.Load(), r.rejected.Load()
	sum.Failed, sum.Unsent = r.failed.Load(), r.unsent.Load()
	sum.Requests, sum.Retries = r.requests.Load(), r.retries.Load()
	sum.Batches, sum.BytesOut = r.batches.Load(), r.bytesOut.Load()
	return sum, r.failErr
}

// fail stops the run because of err, which Run will return.
func (r *run) fail(err error) {
	r.failOnce.Do(func() {
		r.failErr = err
		r.stopFn(err)
	})
}

// Preflight checks cfg's target as Run does before taking any event: it
// validates cfg, dials the target (ErrUnreachable) and fetches a token when
// cfg.Tokens is set (ErrAuth when refused), so a bad target fails in well
// under a second with one line. A caller that anchors cfg.Start itself
// calls Preflight first, then sets Start and SkipPreflight, so the check's
// time does not count as schedule lag. It is safe for concurrent use.
func Preflight(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if cfg.DryRun {
		return nil
	}
	if err := preflight(ctx, cfg); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// preflight makes a bad target fail fast with one clear line.
func preflight(ctx context.Context, cfg Config) error {
	u, _ := url.Parse(cfg.Target) // checked by withDefaults
	hostport := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		hostport = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: min(cfg.RequestTimeout, 5*time.Second)}
	c, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, hostport, err)
	}
	c.Close()
	if cfg.Tokens != nil {
		if _, err := cfg.Tokens.Token(ctx); err != nil {
			if errors.Is(err, ErrAuth) || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrConfig) {
				return fmt.Errorf("getting a token: %w", err)
			}
			return fmt.Errorf("%w: getting a token: %v", ErrAuth, err)
		}
	}
	return nil
}

// emit tallies r and hands it to the sink.
func (r *run) emit(res *report.Result) {
	var n [report.Unsent + 1]uint64
	for i := range res.Events {
		if o := res.Events[i].Outcome; o <= report.Unsent {
			n[o]++
		}
	}
	// One atomic add per outcome and Result, not per event.
	add := func(c *atomic.Uint64, n uint64) {
		if n > 0 {
			c.Add(n)
		}
	}
	add(&r.accepted, n[report.Accepted])
	add(&r.rejected, n[report.Rejected])
	add(&r.failed, n[report.Failed])
	add(&r.unsent, n[report.Unsent])
	if res.Attempt > 0 {
		r.requests.Add(1)
		r.bytesOut.Add(uint64(res.BytesOut))
		if res.Attempt > 1 {
			r.retries.Add(1)
		}
	}
	r.sink.Add(res)
}

// settle reports all of b's events with one outcome in an Attempt 0 Result:
// they were never sent (Unsent) or their retry never started (Failed).
func (r *run) settle(res *report.Result, b *batch, outcome report.Outcome, kind report.ErrorKind, msg string) {
	*res = report.Result{
		Endpoint:      b.ep,
		Batch:         b.seq,
		FirstIntended: b.firstIntended,
		Intended:      b.intended,
		Kind:          kind,
		Error:         msg,
		Events:        res.Events[:0],
	}
	for i := range b.evs {
		res.Events = append(res.Events, report.EventResult{ID: b.evs[i].ID, Type: b.evs[i].Type, Outcome: outcome})
	}
	r.emit(res)
}

func (r *run) getBatch(ep events.Endpoint, lane int, seq uint64) *batch {
	b := r.pool.Get().(*batch)
	b.reset()
	b.ep, b.lane, b.seq = ep, lane, seq
	return b
}

// scheduler takes events from the Source at their due times and fills the
// batches. It runs on Run's goroutine and owns every open batch.
type scheduler struct {
	r      *run
	lanes  [][]*lane
	aff    []*affinity // per endpoint; holds the open batches
	linger lingerQueue
	start  time.Time
	timer  *time.Timer
	seq    uint64
	ev     events.Timed  // the event in hand
	res    report.Result // for Unsent reports
}

func newScheduler(r *run, lanes [][]*lane, start time.Time) *scheduler {
	s := &scheduler{r: r, lanes: lanes, start: start, timer: time.NewTimer(time.Hour)}
	s.timer.Stop()
	s.aff = make([]*affinity, len(lanes))
	for i := range s.aff {
		s.aff[i] = newAffinity(lanes[i])
	}
	return s
}

// openBatch opens a batch at the end of lane ln's open batches, due at due.
func (s *scheduler) openBatch(ep events.Endpoint, ln int, due time.Time) *batch {
	s.seq++
	b := s.r.getBatch(ep, ln, s.seq)
	b.opened = due
	b.isOpen = true
	s.aff[ep].opened(ln, b)
	s.linger.push(b)
	return b
}

// closeThrough closes b and the open batches before it on its lane, in
// order, at the schedule time closed, and dispatches them. It reports
// false when the run stopped first (the batches are then reported Unsent).
func (s *scheduler) closeThrough(b *batch, lingered bool, closed time.Time) bool {
	a := s.aff[b.ep]
	ok := true
	for b.isOpen {
		h := a.closeHead(b.lane, lingered)
		h.isOpen = false
		if !ok {
			s.r.settle(&s.res, h, report.Unsent, report.ErrCanceled, "run stopped before the batch was sent")
			s.r.pool.Put(h)
			continue
		}
		ok = s.dispatch(h, closed)
	}
	return ok
}

func isOpen(b *batch, seq uint64) bool {
	return b.seq == seq && b.isOpen
}

// wait blocks until t (less the lookahead) or the stop, reporting false
// when stopped.
func (s *scheduler) wait(t time.Time) bool {
	if time.Until(t) <= lookahead {
		return s.r.stop.Err() == nil
	}
	return waitUntil(t.Add(-lookahead), s.timer, s.r.stop.Done())
}

// loop runs until the source ends or the run stops. On return every event
// taken is either in a lane's queue or already reported.
func (s *scheduler) loop(src Source) {
	r, cfg := s.r, &s.r.cfg
	// A dry run batches on the same schedule as a real run but does not
	// wait for it, so it checks an hour-long scenario in seconds.
	waits := !cfg.Unpaced && !cfg.DryRun
	var cur time.Time
	var lastAt time.Duration
	var taken uint64
	defer func() { r.generated.Store(taken) }()
	var now time.Time // unpaced: the clock, read now and then
	stopped := false
	// The event lives in s, not on the loop's stack: handing &ev to the
	// sink would otherwise move every event to the heap.
	ev := &s.ev
	for !stopped {
		var err error
		*ev, err = src.Next(r.stop)
		if err == nil {
			err = checkEvent(ev, taken+1)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && r.stop.Err() == nil {
				r.fail(fmt.Errorf("engine: source: %w", err))
			}
			stopped = r.stop.Err() != nil
			break
		}
		taken++
		// At must not decrease; a source that slips is held to its latest
		// time rather than reordering the schedule.
		lastAt = max(lastAt, ev.At)
		ev.At = lastAt
		r.sink.Generated(ev)

		due := s.start.Add(ev.At)
		if cfg.Unpaced {
			// Unpaced, the clock only drives linger and batch times, and
			// reading it per event costs more than the rest of the
			// batching: read it every 16th event.
			if taken&15 == 1 {
				now = time.Now()
			}
			due = now
		}
		// Close, in deadline order, the batches whose linger ends first.
		for {
			b := s.linger.peek(isOpen)
			if b == nil {
				break
			}
			deadline := b.opened.Add(cfg.Batch.Linger)
			if deadline.After(due) {
				break
			}
			if waits && !s.wait(deadline) {
				stopped = true
				break
			}
			s.linger.pop()
			if !s.closeThrough(b, true, deadline) {
				stopped = true
				break
			}
		}
		if !stopped && waits && !s.wait(due) {
			stopped = true
		}
		if stopped {
			s.unsentEvent(ev)
			break
		}
		cur = due
		if !s.place(ev, due) {
			stopped = true
		}
	}
	// The source is done or the run stopped: flush or give up what is open.
	if cfg.Unpaced || cur.IsZero() {
		cur = time.Now()
	}
	for _, a := range s.aff {
		for ln := range a.lanes {
			ls := &a.lanes[ln]
			for len(ls.open) > 0 {
				b := a.closeHead(ln, true)
				b.isOpen = false
				if stopped || r.stop.Err() != nil {
					s.r.settle(&s.res, b, report.Unsent, report.ErrCanceled, "run stopped before the batch was sent")
					s.r.pool.Put(b)
					continue
				}
				if !s.dispatch(b, cur) {
					stopped = true
				}
			}
		}
	}
}

// place adds ev, due at due, to a batch of the lane its key is bound to,
// or else of its endpoint's fill lane: the first open batch that takes it
// without reordering its key, or a new one. It reports false, with ev
// reported Unsent, when the run stopped while a batch it closed waited
// for a queue slot.
func (s *scheduler) place(t *events.Timed, due time.Time) bool {
	cfg := &s.r.cfg
	ev := &t.Event
	ep := ev.Type.Endpoint()
	a := s.aff[ep]
	was, n := a.lookup(ev.Key)
	ln := was
	if ln < 0 {
		ln = a.fillLane()
	}
	ls := &a.lanes[ln]
	j := -1
	for i, o := range ls.open {
		// A bound key's events go to its latest batch or a later one.
		if o.n >= n && o.fits(ev, cfg.Batch.MaxEvents, cfg.Batch.MaxBytes) {
			j = i
			break
		}
	}
	if j < 0 {
		if len(ls.open) == maxChain {
			if !s.closeThrough(ls.open[0], false, due) {
				s.unsentEvent(t)
				return false
			}
		}
		s.openBatch(ep, ln, due)
		j = len(ls.open) - 1
	}
	b := ls.open[j]
	b.add(ev)
	a.bind(ev.Key, ln, j, was, n)
	if len(b.evs) >= cfg.Batch.MaxEvents {
		return s.closeThrough(b, false, due)
	}
	return true
}

// checkEvent rejects an event the batcher cannot carry, naming it by its
// position in the stream (n, from 1) and its id.
func checkEvent(ev *events.Timed, n uint64) error {
	switch {
	case int(ev.Type) >= events.NumTypes:
		return fmt.Errorf("event %d (eventId %q): unknown event type %d", n, ev.ID, ev.Type)
	case len(ev.JSON) < 2 || ev.JSON[0] != '{' || ev.JSON[len(ev.JSON)-1] != '}':
		return fmt.Errorf("event %d (eventId %q, %s): JSON is not an object", n, ev.ID, ev.Type)
	case ev.ID == "":
		return fmt.Errorf("event %d (%s): no eventId", n, ev.Type)
	case ev.At < 0:
		return fmt.Errorf("event %d (eventId %q): negative offset %v", n, ev.ID, ev.At)
	}
	return nil
}

// dispatch closes b at the schedule time closed, reserves its slot under
// the limits and queues it on its lane, waiting while the queues are full
// (the back-pressure that turns into schedule lag). It reports false, and b
// as Unsent, when the run stops first.
func (s *scheduler) dispatch(b *batch, closed time.Time) bool {
	b.intended = s.r.pacer.slot(closed, b.ep, len(b.evs))
	b.firstIntended = b.intended
	s.r.batches.Add(1)
	l := s.lanes[b.ep][b.lane]
	if s.r.cfg.DryRun {
		// Checked here, at once: a dry run models a target that answers
		// in no time, and its batching does not depend on goroutines.
		s.r.dryRun(&s.res, b)
		s.r.pool.Put(b)
		l.finished.Add(1)
		return true
	}
	ch := l.ch
	select {
	case s.r.queued <- struct{}{}:
	case <-s.r.stop.Done():
		s.r.settle(&s.res, b, report.Unsent, report.ErrCanceled, "run stopped before the batch was sent")
		s.r.pool.Put(b)
		return false
	}
	// A lane's channel holds min(Queued, maxLaneBacklog) batches, so with
	// a slot in hand this send blocks only for a lane that far behind.
	select {
	case ch <- b:
		return true
	case <-s.r.stop.Done():
		<-s.r.queued
		s.r.settle(&s.res, b, report.Unsent, report.ErrCanceled, "run stopped before the batch was sent")
		s.r.pool.Put(b)
		return false
	}
}

// unsentEvent reports an event taken from the source but never batched.
func (s *scheduler) unsentEvent(ev *events.Timed) {
	s.res = report.Result{
		Endpoint:      ev.Type.Endpoint(),
		FirstIntended: s.start.Add(ev.At),
		Intended:      s.start.Add(ev.At),
		Kind:          report.ErrCanceled,
		Error:         "run stopped before the event was batched",
		Events:        append(s.res.Events[:0], report.EventResult{ID: ev.ID, Type: ev.Type, Outcome: report.Unsent}),
	}
	s.r.emit(&s.res)
}
