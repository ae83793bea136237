package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// sliceSource replays prebuilt events; it honours ctx like a real source.
type sliceSource struct {
	evs []events.Timed
	i   int
}

func (s *sliceSource) Next(ctx context.Context) (events.Timed, error) {
	if err := ctx.Err(); err != nil {
		return events.Timed{}, err
	}
	if s.i >= len(s.evs) {
		return events.Timed{}, io.EOF
	}
	s.i++
	return s.evs[s.i-1], nil
}

// testEvent builds an event whose JSON carries what the fake API checks:
// its id, its key and its sequence number within the key.
func testEvent(typ events.Type, id int, key string, seq int, at time.Duration, pad int) events.Timed {
	js := fmt.Sprintf(`{"eventId":"ev-%d","conversationId":%q,"seq":%d,"pad":%q}`, id, key, seq, strings.Repeat("x", pad))
	return events.Timed{At: at, Event: events.Event{Type: typ, ID: fmt.Sprintf("ev-%d", id), Key: events.KeyOf(key), JSON: []byte(js)}}
}

// genEvents makes n events over nkeys keys, cycling through types, spaced
// by step.
func genEvents(n, nkeys int, types []events.Type, step time.Duration, pad int) []events.Timed {
	evs := make([]events.Timed, n)
	seqs := make([]int, nkeys)
	for i := range evs {
		k := i % nkeys
		seqs[k]++
		evs[i] = testEvent(types[(i/nkeys)%len(types)], i, fmt.Sprintf("key-%d", k), seqs[k], time.Duration(i)*step, pad)
	}
	return evs
}

// fakeEvent is what the fake API reads from each event.
type fakeEvent struct {
	EventID        string `json:"eventId"`
	ConversationID string `json:"conversationId"`
	Seq            int    `json:"seq"`
}

// fakeResp is what a fake API hook decides for one request.
type fakeResp struct {
	status     int
	retryAfter string
	body       string              // non-2xx body
	errs       []events.EventError // 2xx: events not taken
	hold       <-chan struct{}     // answer only when closed (or the request ends)
}

// fakeAPI is a small Events API: it checks the batch, counts events per
// endpoint, checks order per key, and answers what hook says.
type fakeAPI struct {
	t    testing.TB
	hook func(n int64, ep events.Endpoint, evs []fakeEvent, r *http.Request) fakeResp

	requests atomic.Int64
	inflight atomic.Int64
	maxIn    atomic.Int64

	mu         sync.Mutex
	accepted   [events.NumEndpoints]int
	acceptedBy map[string]int // eventId → times taken
	lastSeq    map[string]int
	violations []string
	maxEvents  int
	maxBytes   int
	times      []time.Time // arrival of each request
}

func newFakeAPI(t testing.TB, hook func(n int64, ep events.Endpoint, evs []fakeEvent, r *http.Request) fakeResp) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{t: t, hook: hook, acceptedBy: map[string]int{}, lastSeq: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	in := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxIn.Load()
		if in <= m || f.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	ep, ok := events.EndpointForPath(r.URL.Path)
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "no such endpoint", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	raws, err := events.SplitBatch(ep, body)
	if err != nil {
		f.t.Errorf("fake API: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	evs := make([]fakeEvent, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw.JSON, &evs[i]); err != nil {
			f.t.Errorf("fake API: event %d: %v", i, err)
		}
	}
	f.mu.Lock()
	f.times = append(f.times, time.Now())
	f.maxEvents = max(f.maxEvents, len(evs))
	f.maxBytes = max(f.maxBytes, len(body))
	f.mu.Unlock()

	resp := fakeResp{status: http.StatusAccepted}
	if f.hook != nil {
		resp = f.hook(n, ep, evs, r)
	}
	if resp.hold != nil {
		select {
		case <-resp.hold:
		case <-r.Context().Done():
			return
		}
	}
	if resp.retryAfter != "" {
		w.Header().Set("Retry-After", resp.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	if resp.status < 200 || resp.status > 299 {
		w.WriteHeader(resp.status)
		io.WriteString(w, resp.body)
		return
	}
	named := map[string]bool{}
	for _, e := range resp.errs {
		named[e.EventID] = true
	}
	f.mu.Lock()
	for _, e := range evs {
		if named[e.EventID] {
			continue
		}
		f.accepted[ep]++
		f.acceptedBy[e.EventID]++
		// Order is kept per endpoint: lanes are per endpoint.
		k := ep.String() + "/" + e.ConversationID
		if last := f.lastSeq[k]; e.Seq <= last {
			f.violations = append(f.violations, fmt.Sprintf("%s: seq %d after %d", k, e.Seq, last))
		}
		f.lastSeq[k] = e.Seq
	}
	f.mu.Unlock()
	w.WriteHeader(resp.status)
	json.NewEncoder(w).Encode(events.BatchEventResponse{Errors: resp.errs})
}

func (f *fakeAPI) totalAccepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted[0] + f.accepted[1] + f.accepted[2]
}

// ledgerSink checks the engine's promises as results arrive: each event
// generated once and settled exactly once.
type ledgerSink struct {
	mu        sync.Mutex
	generated map[string]int
	final     map[string]report.Outcome
	dups      []string
	results   []report.Result // copies
	keep      bool
	gen       atomic.Int64
}

func newLedgerSink(keep bool) *ledgerSink {
	return &ledgerSink{generated: map[string]int{}, final: map[string]report.Outcome{}, keep: keep}
}

func (s *ledgerSink) Generated(ev *events.Timed) {
	s.gen.Add(1)
	s.mu.Lock()
	s.generated[ev.ID]++
	s.mu.Unlock()
}

func (s *ledgerSink) Add(r *report.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range r.Events {
		if e.Outcome == report.Retry {
			continue
		}
		if _, ok := s.final[e.ID]; ok {
			s.dups = append(s.dups, e.ID)
		}
		s.final[e.ID] = e.Outcome
	}
	if s.keep {
		c := *r
		c.Events = append([]report.EventResult(nil), r.Events...)
		s.results = append(s.results, c)
	}
}

// check asserts the ledger invariant and returns the final counts.
func (s *ledgerSink) check(t *testing.T, sum Summary) map[report.Outcome]int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dups) > 0 {
		t.Errorf("%d events settled twice, e.g. %s", len(s.dups), s.dups[0])
	}
	for id, n := range s.generated {
		if n != 1 {
			t.Errorf("event %s generated %d times", id, n)
		}
		if _, ok := s.final[id]; !ok {
			t.Errorf("event %s generated but never settled", id)
		}
	}
	for id := range s.final {
		if s.generated[id] == 0 {
			t.Errorf("event %s settled but never generated", id)
		}
	}
	counts := map[report.Outcome]int{}
	for _, o := range s.final {
		counts[o]++
	}
	if got := uint64(len(s.generated)); sum.Generated != got {
		t.Errorf("Summary.Generated = %d, sink saw %d", sum.Generated, got)
	}
	if int(sum.Accepted) != counts[report.Accepted] || int(sum.Rejected) != counts[report.Rejected] ||
		int(sum.Failed) != counts[report.Failed] || int(sum.Unsent) != counts[report.Unsent] {
		t.Errorf("Summary %+v disagrees with sink counts %v", sum, counts)
	}
	if sum.Generated != sum.Accepted+sum.Rejected+sum.Failed+sum.Unsent {
		t.Errorf("ledger: generated %d != accepted %d + rejected %d + failed %d + unsent %d",
			sum.Generated, sum.Accepted, sum.Rejected, sum.Failed, sum.Unsent)
	}
	return counts
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

func slicesSortTimes(ts []time.Time) {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
}

func urlParse(s string) (*url.URL, error) { return url.Parse(s) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func newLoopback(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
