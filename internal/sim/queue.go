package sim

import "time"

// kind is what a pending action does when its time comes.
type kind uint8

const (
	kArrive kind = iota
	kLogin
	kLogout
	kBreak
	kBreakEnd
	kRecover
	kWrapDone
	kIvrDone // IVR (voice) or flow (email) leg done
	kRoute
	kAbandon
	kNoAnswer
	kAnswer
	kHoldOn
	kHoldOff
	kMuteOn
	kMuteOff
	kSegmentEnd
	kExternalEnd
	kConsultAnswer
	kConsultDone
	kSent
	kFollowUp
)

// action is one pending timed step. Actions are values in the heap; the
// gen field lets a state change cancel earlier timers without searching
// the heap (a stale action finds a different gen and does nothing).
type action struct {
	at    time.Duration
	seq   uint64 // creation order: breaks ties so the order is deterministic
	conv  *conv
	agent int32
	gen   uint32
	kind  kind
}

func (a *action) before(b *action) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// actionHeap is a binary min-heap of actions (by at, then seq). It is
// hand-written rather than container/heap so that pushing a value does not
// box it into an interface.
type actionHeap []action

func (h *actionHeap) push(a action) {
	*h = append(*h, a)
	q := *h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].before(&q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *actionHeap) pop() action {
	q := *h
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q[n] = action{} // drop the conv pointer for the GC
	q = q[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q[r].before(&q[l]) {
			m = r
		}
		if !q[m].before(&q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// fifo is a first-in first-out queue on a slice that reuses its space.
type fifo[T any] struct {
	items []T
	head  int
}

func (f *fifo[T]) len() int { return len(f.items) - f.head }

func (f *fifo[T]) push(v T) {
	if f.head > 0 && f.head >= len(f.items)/2 && len(f.items) == cap(f.items) {
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items = f.items[:n]
		f.head = 0
	}
	f.items = append(f.items, v)
}

func (f *fifo[T]) pop() (T, bool) {
	var zero T
	if f.head == len(f.items) {
		return zero, false
	}
	v := f.items[f.head]
	f.items[f.head] = zero
	f.head++
	if f.head == len(f.items) {
		f.items = f.items[:0]
		f.head = 0
	}
	return v, true
}

// filter keeps only the items for which keep is true (used to drop stale
// entries so that lazily deleted items cannot pile up).
func (f *fifo[T]) filter(keep func(T) bool) {
	out := f.items[:0]
	for _, v := range f.items[f.head:] {
		if keep(v) {
			out = append(out, v)
		}
	}
	clear(f.items[len(out):])
	f.items = out
	f.head = 0
}
