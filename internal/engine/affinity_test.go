package engine

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// steadyKeys makes nkeys keys sending perKey events each per period for n
// periods, spread evenly over the period, cycling through types.
func steadyKeys(nkeys, perKey, n int, period time.Duration, types []events.Type) []events.Timed {
	var evs []events.Timed
	gap := period / time.Duration(nkeys*perKey)
	for p := range n {
		for e := range perKey {
			for k := range nkeys {
				id := len(evs)
				at := time.Duration(p)*period + time.Duration(e*nkeys+k)*gap
				typ := types[(p*perKey+e+k)%len(types)]
				evs = append(evs, testEvent(typ, id, fmt.Sprintf("key-%d", k), p*perKey+e+1, at, 20))
			}
		}
	}
	return evs
}

// batchSizes returns the event count of every first attempt or Attempt 0
// Result (one per batch).
func batchSizes(rs []report.Result) []int {
	var sizes []int
	for _, r := range rs {
		if r.Attempt <= 1 {
			sizes = append(sizes, len(r.Events))
		}
	}
	return sizes
}

func TestLowRateBatchesShareALane(t *testing.T) {
	// 40 keys, one event per second each, Linger 1s, 16 lanes: every
	// endpoint's events share one open batch, so a batch holds about 40
	// events, not 40/16. A dry run follows the real schedule without
	// waiting, as if the target answered at once.
	tests := []struct {
		name    string
		perKey  int
		types   []events.Type
		minMean float64
	}{
		{"one type", 1, []events.Type{events.TypeUserPresence}, 40},
		{"conversation types", 1, convTypes, 40},
		// Two events per key per second, types shifted per key: a quarter
		// of the second events would land in an array before their key's
		// first one, so the lane's next open batch takes them (one batch
		// closing early per second instead of one per such event).
		{"reordering types", 2, convTypes, 55},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const keys, seconds = 40, 60
			evs := steadyKeys(keys, tc.perKey, seconds, time.Second, tc.types)
			sink := newLedgerSink(true)
			cfg := Config{DryRun: true, Batch: BatchConfig{Linger: time.Second}, Limits: Limits{Lanes: 16}}
			sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
			if err != nil {
				t.Fatal(err)
			}
			if c := sink.check(t, sum); c[report.Unsent] != len(evs) {
				t.Fatalf("outcomes %v", c)
			}
			sizes := batchSizes(sink.results)
			if len(sizes) != int(sum.Batches) {
				t.Fatalf("%d results for %d batches", len(sizes), sum.Batches)
			}
			mean := float64(len(evs)) / float64(sum.Batches)
			t.Logf("%d events in %d batches, %.1f per batch", len(evs), sum.Batches, mean)
			if mean < tc.minMean {
				t.Errorf("%d batches of %.1f events on average, want at least %.0f", sum.Batches, mean, tc.minMean)
			}
		})
	}
}

func TestLowRateBatchesShareALanePaced(t *testing.T) {
	// The same against a real target, ten times faster (40 keys at 20
	// events/s each, Linger 100ms) for 1 s; the target checks the order.
	api, srv := newFakeAPI(t, nil)
	evs := steadyKeys(40, 2, 10, 100*time.Millisecond, convTypes)
	sink := newLedgerSink(true)
	cfg := Config{Target: srv.URL, Batch: BatchConfig{Linger: 100 * time.Millisecond}, Limits: Limits{Lanes: 16}}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if c := sink.check(t, sum); c[report.Accepted] != len(evs) {
		t.Fatalf("outcomes %v", c)
	}
	if len(api.violations) > 0 {
		t.Errorf("order broken: %s", api.violations[0])
	}
	mean := float64(len(evs)) / float64(sum.Requests)
	t.Logf("%d events in %d requests, %.1f per request", len(evs), sum.Requests, mean)
	// Generous: a loaded machine may answer a request late and split a
	// batch or two; per-key lanes would give about 40/16.
	if mean < 25 {
		t.Errorf("%d requests of %.1f events on average, want about 40", sum.Requests, mean)
	}
}

func TestRunKeepsOrderAsKeysComeAndGo(t *testing.T) {
	// Keys send bursts, fall silent long enough for their batches to
	// finish, and come back, while the target holds some requests (busy
	// lanes) and answers others 503 (retries keep keys bound). A returning
	// key may go to another lane; its order must hold anyway.
	var n atomic.Int64
	api, srv := newFakeAPI(t, func(int64, events.Endpoint, []fakeEvent, *http.Request) fakeResp {
		switch n.Add(1) % 5 {
		case 0:
			ch := make(chan struct{})
			time.AfterFunc(15*time.Millisecond, func() { close(ch) })
			return fakeResp{status: 202, hold: ch}
		case 3:
			return fakeResp{status: 503}
		}
		return fakeResp{status: 202}
	})
	rng := rand.New(rand.NewPCG(1, 2))
	types := []events.Type{events.TypeCommunicationEnded, events.TypeExternalEstablished, events.TypeCommunicationAnswered, events.TypeHoldUpdated}
	var evs []events.Timed
	seqs := map[string]int{}
	for i := range 3000 {
		// 600 ms of events; each key is active in bursts of its own phase.
		at := time.Duration(i) * 200 * time.Microsecond
		k := rng.IntN(60)
		if (at/(40*time.Millisecond)+time.Duration(k))%3 != 0 {
			k = 60 + rng.IntN(5) // a few always-busy keys
		}
		key := fmt.Sprintf("key-%d", k)
		seqs[key]++
		evs = append(evs, testEvent(types[rng.IntN(len(types))], i, key, seqs[key], at, 10))
	}
	sink := newLedgerSink(false)
	cfg := Config{Target: srv.URL, Batch: BatchConfig{MaxEvents: 20, Linger: 5 * time.Millisecond},
		Limits: Limits{Lanes: 4, MaxInFlight: 8}, Retry: RetryConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Budget: -1}}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	c := sink.check(t, sum)
	if len(api.violations) > 0 {
		t.Fatalf("order broken %d times, e.g. %s", len(api.violations), api.violations[0])
	}
	if c[report.Accepted] != len(evs) {
		t.Errorf("outcomes %v, want all %d accepted", c, len(evs))
	}
	if sum.Retries == 0 || api.maxIn.Load() < 2 {
		t.Errorf("retries %d, max in flight %d: the test did not exercise retries and busy lanes", sum.Retries, api.maxIn.Load())
	}
}

// fakeLanes returns n lanes that only count finished batches.
func fakeLanes(n int) []*lane {
	ls := make([]*lane, n)
	for i := range ls {
		ls[i] = &lane{idx: i}
	}
	return ls
}

func TestAffinityBindsWhileOutstanding(t *testing.T) {
	lanes := fakeLanes(3)
	a := newAffinity(lanes)
	open := func(ln int) *batch {
		b := &batch{lane: ln}
		b.reset()
		a.opened(ln, b)
		return b
	}
	add := func(k uint64) (int, *batch) {
		t.Helper()
		was, n := a.lookup(k)
		ln := was
		if ln < 0 {
			ln = a.fillLane()
		}
		ls := &a.lanes[ln]
		if len(ls.open) == 0 {
			open(ln)
		}
		j := len(ls.open) - 1
		a.bind(k, ln, j, was, n)
		return ln, ls.open[j]
	}

	// Unbound keys all go to the fill lane.
	for k := range uint64(10) {
		if ln, _ := add(k); ln != 0 {
			t.Fatalf("key %d went to lane %d, want the fill lane 0", k, ln)
		}
	}
	// The batch fills up and goes to lane 0, which is now busy: a new key
	// goes to an idle lane, a bound key stays.
	a.closeHead(0, false)
	if ln, _ := add(100); ln != 1 {
		t.Errorf("new key after a full batch went to lane %d, want idle lane 1", ln)
	}
	if ln, _ := add(3); ln != 0 {
		t.Errorf("bound key went to lane %d, want its lane 0", ln)
	}
	if got := len(a.bound); got != 11 {
		t.Errorf("%d bindings, want 11", got)
	}
	// Lane 0 finishes its first batch: keys 0-9 except 3 (now in lane 0's
	// second, open batch) are free and their bindings go at the next open.
	lanes[0].finished.Add(1)
	if ln, _ := a.lookup(5); ln != -1 {
		t.Errorf("key 5 still bound to lane %d after its batch finished", ln)
	}
	if ln, _ := a.lookup(3); ln != 0 {
		t.Errorf("key 3 bound to lane %d, want 0 (its second batch is open)", ln)
	}
	a.closeHead(1, true)
	open(2)
	if got := len(a.bound); got != 2 {
		t.Errorf("%d bindings after the reap, want 2 (keys 3 and 100)", got)
	}
	// Everything finishes: the map empties at the next open.
	a.closeHead(0, true)
	a.closeHead(2, true)
	lanes[0].finished.Add(1)
	lanes[1].finished.Add(1)
	lanes[2].finished.Add(1)
	open(1)
	if got := len(a.bound); got != 0 {
		t.Errorf("%d bindings with nothing outstanding, want 0", got)
	}
}

func TestAffinityFillLaneStaysAfterLinger(t *testing.T) {
	lanes := fakeLanes(4)
	a := newAffinity(lanes)
	b := &batch{}
	a.opened(0, b)
	a.closeHead(0, true) // lingered; lane 0 has it outstanding
	if got := a.fillLane(); got != 0 {
		t.Errorf("after a linger close the fill lane is %d, want 0", got)
	}
	a.opened(0, &batch{})
	a.closeHead(0, true) // a second one outstanding: lane 0 is behind
	if got := a.fillLane(); got != 1 {
		t.Errorf("with lane 0 behind the fill lane is %d, want idle lane 1", got)
	}
}
