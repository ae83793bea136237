package engine

// maxChain caps the open batches of one lane. A lane keeps more than one
// open when an event cannot join the first without reordering its key
// (AppendBatch groups events by type): it waits in a later batch of the
// same lane instead of closing the first one for everybody.
const maxChain = 4

// affinity binds one endpoint's keys to lanes while they have events
// outstanding there (in an open batch, queued, in flight or waiting for a
// retry), and picks the lane for keys that have none: the endpoint's fill
// lane. At low rates every event of the endpoint then shares one open
// batch; at high rates, when the fill lane's batch fills up while that lane
// is busy, the next fill lane is an idle one, so the lanes still work in
// parallel. A key's events are only ever outstanding on one lane, which
// sends its batches one request at a time in the order they were opened:
// per-key order holds.
//
// It is owned by the scheduler goroutine. The lanes publish only how many
// batches they have finished (lane.finished), in queue order, so a binding
// (lane, batch number) is outstanding while the number exceeds the lane's
// finished count, with no lock on the per-event path.
type affinity struct {
	bound map[uint64]binding
	lanes []laneState
	fill  int
	// refill: a batch of the fill lane closed full; choose again.
	refill bool
	free   [][]uint64 // spare key lists
}

// binding ties a key to the n-th batch opened on a lane (from 1), the
// latest holding one of its events.
type binding struct {
	n    uint64
	lane int32
}

// laneState is the scheduler's view of one lane.
type laneState struct {
	l      *lane
	opened uint64 // batches opened on the lane; numbers go 1, 2, …
	// open holds the lane's open batches in the order they will be sent;
	// keys[i] lists the keys whose binding names open[i].
	open []*batch
	keys [][]uint64
	// pending holds the key lists of dispatched batches, oldest first, until
	// the lane finishes them and their bindings can be dropped.
	pending []batchKeys
	head    int
}

type batchKeys struct {
	n    uint64
	keys []uint64
}

func newAffinity(lanes []*lane) *affinity {
	a := &affinity{bound: make(map[uint64]binding, 256), lanes: make([]laneState, len(lanes))}
	for i, l := range lanes {
		a.lanes[i] = laneState{l: l, open: make([]*batch, 0, maxChain), keys: make([][]uint64, 0, maxChain)}
	}
	return a
}

// lookup returns the lane key k is bound to and the number of its latest
// batch there, or -1 when k has nothing outstanding on any lane.
func (a *affinity) lookup(k uint64) (int, uint64) {
	v, ok := a.bound[k]
	if !ok || v.n <= a.lanes[v.lane].l.finished.Load() {
		return -1, 0
	}
	return int(v.lane), v.n
}

// backlog is how many of a lane's dispatched batches are not finished.
func (a *affinity) backlog(i int) uint64 {
	ls := &a.lanes[i]
	return ls.opened - uint64(len(ls.open)) - ls.l.finished.Load()
}

// fillLane returns the lane for an event whose key is not bound: the fill
// lane, unless a batch of it closed full (the rate is high) or it has more
// than one batch outstanding (it falls behind); then the least busy lane,
// preferring one that already has an open batch (of bound keys) and then
// the current fill lane.
//
// A batch closed by linger keeps the fill lane: the endpoint gets fewer
// than MaxEvents per Linger, which one lane carries as long as a request
// (pacing wait included) takes less than Linger. Moving on at once would
// instead split the endpoint's events between the new fill lane and the
// keys still bound to the old one, for as long as those keys stay active.
func (a *affinity) fillLane() int {
	if !a.refill && a.backlog(a.fill) <= 1 {
		return a.fill
	}
	a.refill = false
	n := len(a.lanes)
	best, bestScore := a.fill, ^uint64(0)
	for i := range n {
		j := a.fill + i
		if j >= n {
			j -= n
		}
		score := 2 * a.backlog(j)
		if len(a.lanes[j].open) == 0 {
			score++
		}
		if score < bestScore {
			best, bestScore = j, score
			if score == 0 {
				break
			}
		}
	}
	a.fill = best
	return best
}

// opened appends b, just opened, to lane i's open batches and numbers it.
// It also drops the bindings of the batches the lanes have finished since
// the last call, so the map holds only keys with recent events.
func (a *affinity) opened(i int, b *batch) {
	ls := &a.lanes[i]
	ls.opened++
	b.n = ls.opened
	ls.open = append(ls.open, b)
	ls.keys = append(ls.keys, a.newKeys())
	a.reap()
}

// bind records that k's event joined lane i's open batch j; was and n are
// what lookup returned for k.
func (a *affinity) bind(k uint64, i, j, was int, n uint64) {
	ls := &a.lanes[i]
	bn := ls.open[j].n
	if was == i && n == bn {
		return // already bound to this batch
	}
	a.bound[k] = binding{n: bn, lane: int32(i)}
	ls.keys[j] = append(ls.keys[j], k)
}

// closeHead takes lane i's first open batch out of the open ones, closed
// by linger or not, and returns it: its keys wait for the lane to finish it.
func (a *affinity) closeHead(i int, lingered bool) *batch {
	ls := &a.lanes[i]
	b, keys := ls.open[0], ls.keys[0]
	m := copy(ls.open, ls.open[1:])
	ls.open[m] = nil
	ls.open = ls.open[:m]
	copy(ls.keys, ls.keys[1:])
	ls.keys[m] = nil
	ls.keys = ls.keys[:m]
	if i == a.fill && !lingered {
		a.refill = true
	}

	if ls.head > 0 && ls.head == len(ls.pending) {
		ls.pending, ls.head = ls.pending[:0], 0
	} else if ls.head > 64 && ls.head > len(ls.pending)/2 {
		m := copy(ls.pending, ls.pending[ls.head:])
		clear(ls.pending[m:])
		ls.pending, ls.head = ls.pending[:m], 0
	}
	ls.pending = append(ls.pending, batchKeys{n: b.n, keys: keys})
	return b
}

// reap drops the bindings of finished batches.
func (a *affinity) reap() {
	for i := range a.lanes {
		ls := &a.lanes[i]
		if ls.head == len(ls.pending) {
			continue
		}
		done := ls.l.finished.Load()
		for ls.head < len(ls.pending) && ls.pending[ls.head].n <= done {
			p := &ls.pending[ls.head]
			for _, k := range p.keys {
				if v, ok := a.bound[k]; ok && v.n == p.n && int(v.lane) == i {
					delete(a.bound, k)
				}
			}
			a.free = append(a.free, p.keys[:0])
			*p = batchKeys{}
			ls.head++
		}
	}
}

func (a *affinity) newKeys() []uint64 {
	if n := len(a.free); n > 0 {
		k := a.free[n-1]
		a.free = a.free[:n-1]
		return k
	}
	return make([]uint64, 0, 128)
}
