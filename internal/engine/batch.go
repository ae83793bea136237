package engine

import (
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// batch is one request's worth of events. The scheduler fills it; then one
// lane owns it until its events are final, and it goes back to the pool.
type batch struct {
	ep   events.Endpoint
	lane int
	seq  uint64 // the batch number; also tells a reused batch from its past self
	n    uint64 // the batch number within its lane (see affinity)
	// isOpen: the scheduler still adds events to it.
	isOpen bool
	evs    []events.Event
	size   int // body bytes AppendBatch will write for evs

	// pos[t] is 1 + the index of type t's array in the body, 0 if absent.
	pos    [events.NumTypes]int8
	ntypes int8
	// keyPos holds, per key, the highest array position among its events.
	// It is kept only once a second type arrives: with one array no event
	// can be reordered.
	keyPos map[uint64]int8

	opened        time.Time // due time of the oldest event; linger counts from it
	intended      time.Time // when the next attempt is due
	firstIntended time.Time
	body          []byte
}

// reset empties b for reuse, keeping its buffers.
func (b *batch) reset() {
	b.evs = b.evs[:0]
	b.size = 1 // "{" "}" minus the comma the first array does not need
	b.pos = [events.NumTypes]int8{}
	b.ntypes = 0
	clear(b.keyPos)
	b.body = b.body[:0]
}

// grow returns how many body bytes ev adds: its JSON and a comma, plus the
// array's `"property":[]` when its type is new.
func (b *batch) grow(ev *events.Event) int {
	n := len(ev.JSON) + 1
	if b.pos[ev.Type] == 0 {
		n += len(ev.Type.BatchProperty()) + 5
	}
	return n
}

// fits reports whether ev can join b without exceeding the limits or
// reordering its key: AppendBatch groups events by type, so ev must not land
// in an array that comes before one already holding an event of its key.
// An empty batch takes any event, even one over maxBytes on its own (the
// target then answers it; dropping it silently would be worse).
func (b *batch) fits(ev *events.Event, maxEvents, maxBytes int) bool {
	if len(b.evs) == 0 {
		return true
	}
	if len(b.evs) >= maxEvents || b.size+b.grow(ev) > maxBytes {
		return false
	}
	p := b.pos[ev.Type]
	if p == 0 || b.ntypes < 2 {
		return true // a new array goes last; a single array keeps order
	}
	kp, ok := b.keyPos[ev.Key]
	return !ok || kp <= p
}

// add appends ev; the caller has checked fits.
func (b *batch) add(ev *events.Event) {
	b.size += b.grow(ev)
	if b.pos[ev.Type] == 0 {
		b.ntypes++
		b.pos[ev.Type] = b.ntypes
		if b.ntypes == 2 {
			if b.keyPos == nil {
				b.keyPos = make(map[uint64]int8, 128)
			}
			for i := range b.evs {
				b.keyPos[b.evs[i].Key] = 1
			}
		}
	}
	if b.ntypes >= 2 {
		p := b.pos[ev.Type]
		if kp, ok := b.keyPos[ev.Key]; !ok || kp < p {
			b.keyPos[ev.Key] = p
		}
	}
	b.evs = append(b.evs, *ev)
}

// encode writes the body for the batch's events.
func (b *batch) encode() {
	b.body = events.AppendBatch(b.body[:0], b.ep, b.evs)
}

// lingerQueue holds open batches in the order they were opened. All share
// one Linger, so that is also the order of their deadlines and the head is
// always the next batch to close by time. Batches closed by size stay in
// the queue and are skipped when they reach the head (their seq changed or
// they were closed).
type lingerQueue struct {
	items      []lingerItem
	head, tail int // ring indices; len(items) is a power of two or zero
	n          int
}

type lingerItem struct {
	b   *batch
	seq uint64
}

func (q *lingerQueue) push(b *batch) {
	if q.n == len(q.items) {
		grown := make([]lingerItem, max(16, 2*len(q.items)))
		for i := 0; i < q.n; i++ {
			grown[i] = q.items[(q.head+i)&(len(q.items)-1)]
		}
		q.items, q.head, q.tail = grown, 0, q.n
	}
	q.items[q.tail] = lingerItem{b, b.seq}
	q.tail = (q.tail + 1) & (len(q.items) - 1)
	q.n++
}

// peek returns the oldest batch that is still open, dropping stale entries;
// isOpen tells whether the entry's batch is still the one queued.
func (q *lingerQueue) peek(isOpen func(b *batch, seq uint64) bool) *batch {
	for q.n > 0 {
		it := q.items[q.head]
		if isOpen(it.b, it.seq) {
			return it.b
		}
		q.pop()
	}
	return nil
}

func (q *lingerQueue) pop() {
	q.items[q.head] = lingerItem{}
	q.head = (q.head + 1) & (len(q.items) - 1)
	q.n--
}
