package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/loadgen/loadgen/internal/events"
)

// DefaultSaturationLag is the schedule-lag p99 above which the generator
// counts as saturated and the run is marked invalid. A fixed 10 ms is used
// rather than a fraction of the send interval because it is independent of
// the rate, ten times the 1 ms lag target of a healthy generator, and still
// small next to the latencies the Events API shows.
const DefaultSaturationLag = 10 * time.Millisecond

// maxFailureGroups bounds the distinct (endpoint, reason) groups so that a
// server putting event IDs into its messages cannot grow memory without
// bound; further reasons are counted under otherReason.
const (
	maxFailureGroups = 1000
	otherReason      = "other (too many distinct reasons)"
	maxExamples      = 5
	maxReasonLen     = 200
	// maxTimelineSeconds bounds the timeline (7 days) against absurd clocks.
	maxTimelineSeconds = 7 * 24 * 3600
)

// CollectorConfig configures a Collector.
type CollectorConfig struct {
	// Start is the run's start; timeline seconds count from it.
	Start time.Time
	// Failures receives failures.ndjson, one whole line per event that did
	// not end accepted. Nil discards the stream (the groups are still kept).
	Failures io.Writer
	// Now is the clock, for unsent events that have no Done time;
	// nil means time.Now.
	Now func() time.Time
	// SaturationLag overrides DefaultSaturationLag when positive.
	SaturationLag time.Duration
}

// Collector aggregates the Results of a run into flat-memory ledgers, HDR
// histograms, a per-second timeline and failure groups, and streams
// failures.ndjson. Add and Live are safe for concurrent use; Generated must
// be called from one goroutine at a time; Finish is called once, after the
// last Add.
type Collector struct {
	start  time.Time
	now    func() time.Time
	satLag time.Duration

	eps      [events.NumEndpoints]epCollector
	typeGen  [events.NumTypes]atomic.Int64
	badTypes atomic.Int64 // events with a Type outside the schema
	badEps   atomic.Int64 // Results with an Endpoint outside the three

	stopping atomic.Value // StopReason, set by Stopping

	tl   timeline
	fail failureSink
}

// epCollector is one endpoint's share of the Collector.
type epCollector struct {
	// Counters read by Live without locks.
	generated, sent, accepted, rejected, failed, unsent atomic.Int64
	requests, ok, errors, throttled, retries, bytesOut  atomic.Int64

	mu     sync.Mutex // guards the fields below
	hists  [len(histNames)]*hdr.Histogram
	status map[string]int64
	types  [events.NumTypes]typeCount
	_      [64]byte // keeps neighbouring endpoints' locks off one cache line
}

type typeCount struct{ sent, accepted, rejected, failed, unsent int64 }

// NewCollector returns a Collector for a run that started at cfg.Start.
func NewCollector(cfg CollectorConfig) *Collector {
	c := &Collector{start: cfg.Start, now: cfg.Now, satLag: cfg.SaturationLag}
	if c.now == nil {
		c.now = time.Now
	}
	if c.satLag <= 0 {
		c.satLag = DefaultSaturationLag
	}
	for i := range c.eps {
		e := &c.eps[i]
		for j := range e.hists {
			e.hists[j] = newHist()
		}
		e.status = make(map[string]int64)
	}
	c.tl.init()
	c.fail.init(cfg.Failures)
	return c
}

// Generated counts one generated event under its endpoint and type. It is
// called by the one goroutine that takes events from the source.
func (c *Collector) Generated(ev *events.Timed) {
	t := ev.Type
	if int(t) >= events.NumTypes {
		c.badTypes.Add(1)
		return
	}
	c.typeGen[t].Add(1)
	c.eps[t.Endpoint()].generated.Add(1)
}

// Stopping records why the run is stopping, so that events reported unsent
// from now on carry the reason "unsent: <reason>". It is safe for
// concurrent use and optional; Finish applies Meta.StopReason anyway.
func (c *Collector) Stopping(reason StopReason) { c.stopping.Store(reason) }

// Add accounts one Result. It is safe for concurrent use and does not keep
// r or its slices.
func (c *Collector) Add(r *Result) {
	if r == nil {
		return
	}
	if int(r.Endpoint) >= events.NumEndpoints {
		c.badEps.Add(1)
		return
	}
	e := &c.eps[r.Endpoint]

	var n [Retry + 1]int64
	nFail := 0
	for i := range r.Events {
		o := r.Events[i].Outcome
		if o > Retry {
			o = Failed // an unknown outcome must not vanish from the ledger
		}
		n[o]++
		if o != Accepted && o != Retry {
			nFail++
		}
	}
	e.accepted.Add(n[Accepted])
	e.rejected.Add(n[Rejected])
	e.failed.Add(n[Failed])
	e.unsent.Add(n[Unsent])

	sent := r.Attempt >= 1
	var lat, svc, lag int64
	if sent {
		if r.Attempt == 1 {
			e.sent.Add(int64(len(r.Events)))
		} else {
			e.retries.Add(1)
		}
		e.requests.Add(1)
		e.bytesOut.Add(int64(r.BytesOut))
		switch r.Kind {
		case ErrNone:
			e.ok.Add(1)
		case ErrThrottled:
			e.throttled.Add(1)
		default:
			e.errors.Add(1)
		}
		lat = micros(r.Done.Sub(r.Intended))
		svc = micros(r.Done.Sub(r.Sent))
		lag = micros(r.Sent.Sub(r.Intended))
	}

	e.mu.Lock()
	for i := range r.Events {
		ev := &r.Events[i]
		if int(ev.Type) >= events.NumTypes {
			continue
		}
		tc := &e.types[ev.Type]
		if r.Attempt == 1 {
			tc.sent++
		}
		switch ev.Outcome {
		case Accepted:
			tc.accepted++
		case Rejected:
			tc.rejected++
		case Retry:
		case Unsent:
			tc.unsent++
		default:
			tc.failed++
		}
	}
	if sent {
		e.status[statusKey(r)]++
		// A canceled attempt has no meaningful latency: the run cut it off.
		if r.Kind != ErrCanceled {
			_ = e.hists[0].RecordValue(lat)
			_ = e.hists[1].RecordValue(svc)
			if n[Retry] == 0 {
				_ = e.hists[3].RecordValue(micros(r.Done.Sub(r.FirstIntended)))
			}
			if r.Attempt == 1 {
				_ = e.hists[4].RecordValue(lat)
			}
		}
		_ = e.hists[2].RecordValue(lag)
	}
	e.mu.Unlock()

	if sent {
		c.tl.add(r, c.start, lat, lag, len(r.Events))
	}
	if nFail > 0 {
		c.fail.add(r, c.reasonNow(), c.now)
	}
}

func (c *Collector) reasonNow() StopReason {
	s, _ := c.stopping.Load().(StopReason)
	return s
}

// statusNames holds the decimal form of every HTTP status, so that
// counting a status allocates nothing. It is never modified.
var statusNames = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// statusKey is the statusCodes key of a sent attempt.
func statusKey(r *Result) string {
	switch {
	case r.Status > 0 && r.Status < len(statusNames):
		return statusNames[r.Status]
	case r.Status > 0:
		return strconv.Itoa(r.Status)
	}
	return r.Kind.String()
}

// Live is a snapshot of the counters, for progress bars.
type Live struct {
	// Elapsed is the time since Start by the Collector's clock.
	Elapsed   time.Duration
	Endpoints [events.NumEndpoints]LiveEndpoint
}

// LiveEndpoint is one endpoint's counters in a Live snapshot.
type LiveEndpoint struct {
	Generated, Sent, Accepted, Rejected, Failed, Unsent int64
	Requests, Errors, Throttled                         int64
}

// Total returns the sum over the endpoints.
func (l Live) Total() LiveEndpoint {
	var t LiveEndpoint
	for _, e := range l.Endpoints {
		t.Generated += e.Generated
		t.Sent += e.Sent
		t.Accepted += e.Accepted
		t.Rejected += e.Rejected
		t.Failed += e.Failed
		t.Unsent += e.Unsent
		t.Requests += e.Requests
		t.Errors += e.Errors
		t.Throttled += e.Throttled
	}
	return t
}

// Live returns the current counters without locking; it is safe for
// concurrent use and cheap enough to call many times a second. The
// counters are read one by one, so a snapshot may be mid-update.
func (c *Collector) Live() Live {
	l := Live{Elapsed: c.now().Sub(c.start)}
	for i := range c.eps {
		e := &c.eps[i]
		l.Endpoints[i] = LiveEndpoint{
			Generated: e.generated.Load(), Sent: e.sent.Load(),
			Accepted: e.accepted.Load(), Rejected: e.rejected.Load(),
			Failed: e.failed.Load(), Unsent: e.unsent.Load(),
			Requests: e.requests.Load(), Errors: e.errors.Load(), Throttled: e.throttled.Load(),
		}
	}
	return l
}

// Meta is what the caller knows about a run that the Results do not tell.
type Meta struct {
	Scenario, ScenarioHash string
	Seed                   int64
	ShardIndex, ShardCount int
	Target                 string
	StartedAt, EndedAt     time.Time
	StopReason             StopReason
	// Thresholds are evaluated into Run.Thresholds.
	Thresholds []Threshold
	// Warnings are copied into Run.Warnings.
	Warnings []string
	// Generator carries the process figures (CPUSeconds, MaxRSSBytes; see
	// ProcessUsage); Finish fills in the schedule-lag fields.
	Generator Generator
	// Replay is copied into Run.Replay.
	Replay *ReplayInfo
}

// Finish builds the Run. It must be called once, after the last Add. It
// always returns a Run; the error wraps ErrLedger when some ledger does not
// balance (the Run is then marked invalid and says where), and
// ErrFailuresWrite when failures.ndjson could not be written.
func (c *Collector) Finish(meta Meta) (*Run, error) {
	c.tl.flushAll()
	if meta.StopReason == "" {
		meta.StopReason = StopCompleted
	}
	if meta.ShardCount <= 0 {
		meta.ShardCount = 1
	}
	r := &Run{
		SchemaVersion: SchemaVersion,
		Run: Info{
			Scenario: meta.Scenario, ScenarioHash: meta.ScenarioHash, Seed: meta.Seed,
			Shard:  Shard{Index: meta.ShardIndex, Count: meta.ShardCount},
			Target: meta.Target, StartedAt: meta.StartedAt.UTC(), EndedAt: meta.EndedAt.UTC(),
			StopReason: meta.StopReason, Valid: true,
		},
		Endpoints:  make(map[string]*EndpointStats, events.NumEndpoints),
		EventTypes: make(map[string]*Ledger),
		Warnings:   append([]string(nil), meta.Warnings...),
		Generator:  meta.Generator,
		Replay:     meta.Replay,
	}
	if n := c.badEps.Load(); n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d results named an unknown endpoint and were ignored", n))
	}
	if n := c.badTypes.Load(); n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d generated events had an unknown type", n))
	}
	var errs []error
	hists := make(map[string][len(histNames)]*hdr.Histogram, events.NumEndpoints)
	for _, ep := range events.Endpoints() {
		e := &c.eps[ep]
		e.mu.Lock()
		st := &EndpointStats{
			Events: Ledger{
				Generated: e.generated.Load(), Sent: e.sent.Load(), Accepted: e.accepted.Load(),
				Rejected: e.rejected.Load(), Failed: e.failed.Load(), Unsent: e.unsent.Load(),
			},
			Requests: e.requests.Load(), OK: e.ok.Load(), Throttled: e.throttled.Load(),
			Errors: e.errors.Load(), Retries: e.retries.Load(), BytesOut: e.bytesOut.Load(),
			StatusCodes: make(map[string]int64, len(e.status)),
		}
		for k, v := range e.status {
			st.StatusCodes[k] = v
		}
		for _, t := range events.Types() {
			if t.Endpoint() != ep {
				continue
			}
			tc := e.types[t]
			l := Ledger{Generated: c.typeGen[t].Load(), Sent: tc.sent, Accepted: tc.accepted,
				Rejected: tc.rejected, Failed: tc.failed, Unsent: tc.unsent}
			if l != (Ledger{}) {
				r.EventTypes[t.String()] = &l
			}
		}
		hs := e.hists
		e.mu.Unlock()
		hists[ep.String()] = hs
		if err := st.setHistograms(hs); err != nil {
			errs = append(errs, err)
		}
		r.Endpoints[ep.String()] = st
	}
	r.recomputeTotals(hists)
	c.fail.finish(r, meta.StopReason)
	if err := c.fail.err(); err != nil {
		errs = append(errs, err)
		r.Warnings = append(r.Warnings, "failures.ndjson is incomplete: "+err.Error())
	}
	r.Timeline = c.tl.rows()
	if n := c.tl.late; n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d late results left out of the timeline percentiles", n))
	}
	r.finishGenerator(c.satLag)
	if err := r.checkLedger(); err != nil {
		errs = append(errs, err)
	}
	r.Evaluate(meta.Thresholds)
	return r, errors.Join(errs...)
}

// setHistograms encodes hs and fills the summaries.
func (st *EndpointStats) setHistograms(hs [len(histNames)]*hdr.Histogram) error {
	st.Histograms = make(map[string]string, len(histNames))
	sums := [...]*Summary{&st.Latency, &st.ServiceTime, &st.ScheduleLag, &st.EndToEnd, &st.FirstAttempt}
	for i, h := range hs {
		*sums[i] = summarize(h)
		s, err := encodeHist(h)
		if err != nil {
			return err
		}
		st.Histograms[histNames[i]] = s
	}
	return nil
}

// recomputeTotals derives the totals from the endpoints; hists are the
// endpoints' histograms by endpoint name.
func (r *Run) recomputeTotals(hists map[string][len(histNames)]*hdr.Histogram) {
	r.Totals = Totals{}
	var all [len(histNames)]*hdr.Histogram
	for i := range all {
		all[i] = newHist()
	}
	for _, name := range sortedKeys(r.Endpoints) {
		st := r.Endpoints[name]
		r.Totals.Events.add(st.Events)
		r.Totals.Requests.add(st.requestCounts())
		r.Totals.BytesOut += st.BytesOut
		for i := range all {
			all[i].Merge(hists[name][i])
		}
	}
	r.Totals.Latency = summarize(all[0])
	r.Totals.ServiceTime = summarize(all[1])
	r.Totals.ScheduleLag = summarize(all[2])
	r.Totals.EndToEnd = summarize(all[3])
	r.Totals.FirstAttempt = summarize(all[4])
}

// finishGenerator fills the schedule-lag health and validity.
// minSaturationSamples is how many attempts a run needs before its
// schedule-lag p99 judges saturation. Below it p99 is the maximum, so a single
// pause of the process (a GC, a noisy neighbour) would mark a small run
// invalid; such runs are judged on the median instead.
const minSaturationSamples = 100

func (r *Run) finishGenerator(limit time.Duration) {
	lag := r.Totals.ScheduleLag
	r.Generator.ScheduleLagP99 = lag.P99
	r.Generator.SaturationLimit = float64(limit) / float64(time.Millisecond)
	judged, name := lag.P99, "p99"
	if lag.Count < minSaturationSamples {
		judged, name = lag.P50, fmt.Sprintf("p50 (only %d requests)", lag.Count)
	}
	r.Generator.Saturated = judged > r.Generator.SaturationLimit
	if r.Generator.Saturated {
		r.invalidate(fmt.Sprintf("generator saturated: schedule lag %s %.3f ms > %.3f ms", name, judged, r.Generator.SaturationLimit))
	}
}

func (r *Run) invalidate(reason string) {
	r.Run.Valid = false
	r.Run.InvalidReasons = append(r.Run.InvalidReasons, reason)
}

// checkLedger verifies generated = accepted + rejected + failed + unsent
// overall, per endpoint and per event type; a break invalidates the run.
func (r *Run) checkLedger() error {
	var errs []error
	check := func(scope string, l Ledger) {
		if !l.Balanced() {
			msg := fmt.Sprintf("%s: generated %d != accepted %d + rejected %d + failed %d + unsent %d (= %d)",
				scope, l.Generated, l.Accepted, l.Rejected, l.Failed, l.Unsent, l.Settled())
			r.invalidate("ledger " + msg)
			errs = append(errs, fmt.Errorf("%w: %s", ErrLedger, msg))
		}
	}
	check("total", r.Totals.Events)
	for _, name := range sortedKeys(r.Endpoints) {
		check("endpoint "+name, r.Endpoints[name].Events)
	}
	for _, name := range sortedKeys(r.EventTypes) {
		check("type "+name, *r.EventTypes[name])
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
