package engine

// affinity binds one endpoint's keys to lanes while they have events
// outstanding there (in an open batch, queued, in flight or waiting for a
// retry), and picks the lane for keys that have none: the endpoint's fill
// lane. At low rates every event of the endpoint then shares one open
// batch; at high rates, when the fill lane's batch closes while that lane
// is busy, the next fill lane is an idle one, so the lanes still work in
// parallel. A key's events are thus only ever outstanding on one lane,
// which sends them one request at a time: per-key order holds.
//
// It is owned by the scheduler goroutine. The lanes publish only how many
// batches they have finished (lane.finished), in their queue order, so a
// binding (lane, batch number) is outstanding while that number exceeds
// the lane's finished count, with no lock on the per-event path.
type affinity struct {
	bound map[uint64]binding
	lanes []laneState
	fill  int
	free  [][]uint64 // spare key lists
}

// binding ties a key to the n-th batch opened on a lane (from 1).
type binding struct {
	n    uint64
	lane int32
}

// laneState is the scheduler's view of one lane.
type laneState struct {
	l      *lane
	opened uint64 // batches opened on the lane; the open one is number opened
	isOpen bool
	// lingered: the last batch closed by linger rather than by size.
	lingered bool
	keys   []uint64 // keys whose binding names the open batch
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
		a.lanes[i].l = l
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
	d := ls.opened
	if ls.isOpen {
		d--
	}
	return d - ls.l.finished.Load()
}

// fillLane returns the lane for an event whose key is not bound: the fill
// lane while it has an open batch, or while its last batch closed by
// linger and is all it has outstanding; else the least busy lane,
// preferring one that already has an open batch (of bound keys) and then
// the current fill lane.
//
// A batch closed by linger means the endpoint gets fewer than MaxEvents
// per Linger, which one lane carries as long as a request (pacing wait
// included) takes less than Linger; moving on at once would instead split
// the endpoint's events between the new fill lane and the keys still bound
// to the old one, for as long as those keys stay active. When a lane falls
// behind (a second batch outstanding) or batches fill up, the fill lane
// moves to an idle one.
func (a *affinity) fillLane() int {
	if ls := &a.lanes[a.fill]; ls.isOpen || (ls.lingered && a.backlog(a.fill) <= 1) {
		return a.fill
	}
	n := len(a.lanes)
	best, bestScore := a.fill, ^uint64(0)
	for i := range n {
		j := a.fill + i
		if j >= n {
			j -= n
		}
		score := 2 * a.backlog(j)
		if !a.lanes[j].isOpen {
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

// opened records that lane i opened a batch and drops the bindings of the
// batches the lanes have finished since the last call, so the map holds
// only keys with recent events.
func (a *affinity) opened(i int) {
	ls := &a.lanes[i]
	ls.opened++
	ls.isOpen = true
	if ls.keys == nil {
		ls.keys = a.newKeys()
	}
	a.reap()
}

// bind records that k's event joined lane i's open batch; was and n are
// what lookup returned for k.
func (a *affinity) bind(k uint64, i, was int, n uint64) {
	ls := &a.lanes[i]
	if was == i && n == ls.opened {
		return // already bound to this batch
	}
	a.bound[k] = binding{n: ls.opened, lane: int32(i)}
	ls.keys = append(ls.keys, k)
}

// closed records that lane i's open batch was closed (dispatched or
// settled), by linger or not: its keys wait for the lane to finish it.
func (a *affinity) closed(i int, lingered bool) {
	ls := &a.lanes[i]
	ls.isOpen, ls.lingered = false, lingered
	if ls.head > 0 && ls.head == len(ls.pending) {
		ls.pending, ls.head = ls.pending[:0], 0
	} else if ls.head > 64 && ls.head > len(ls.pending)/2 {
		m := copy(ls.pending, ls.pending[ls.head:])
		clear(ls.pending[m:])
		ls.pending, ls.head = ls.pending[:m], 0
	}
	ls.pending = append(ls.pending, batchKeys{n: ls.opened, keys: ls.keys})
	ls.keys = nil
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
