package engine

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// batchAll runs evs through the batcher rules as the scheduler does (one
// open batch, closed when the next event does not fit or it is full).
func batchAll(evs []events.Timed, maxEvents, maxBytes int) []*batch {
	var out []*batch
	b := &batch{ep: evs[0].Type.Endpoint()}
	b.reset()
	for i := range evs {
		if !b.fits(&evs[i].Event, maxEvents, maxBytes) {
			out = append(out, b)
			b = &batch{ep: b.ep}
			b.reset()
		}
		b.add(&evs[i].Event)
		if len(b.evs) >= maxEvents {
			out = append(out, b)
			b = &batch{ep: b.ep}
			b.reset()
		}
	}
	if len(b.evs) > 0 {
		out = append(out, b)
	}
	return out
}

// checkBatches asserts the limits, that size predicts the body exactly,
// and that reading the bodies back in order gives every key's events in
// source order.
func checkBatches(t testing.TB, evs []events.Timed, bs []*batch, maxEvents, maxBytes int) {
	t.Helper()
	var got []fakeEvent
	for i, b := range bs {
		b.encode()
		if len(b.body) != b.size {
			t.Fatalf("batch %d: body %d bytes, size says %d", i, len(b.body), b.size)
		}
		if len(b.evs) > maxEvents || (len(b.body) > maxBytes && len(b.evs) > 1) {
			t.Fatalf("batch %d: %d events, %d bytes over the limits %d, %d", i, len(b.evs), len(b.body), maxEvents, maxBytes)
		}
		raws, err := events.SplitBatch(b.ep, b.body)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		for _, r := range raws {
			var fe fakeEvent
			if err := json.Unmarshal(r.JSON, &fe); err != nil {
				t.Fatal(err)
			}
			got = append(got, fe)
		}
	}
	if len(got) != len(evs) {
		t.Fatalf("%d events in the bodies, want %d", len(got), len(evs))
	}
	last := map[string]int{}
	for _, fe := range got {
		if fe.Seq <= last[fe.ConversationID] {
			t.Fatalf("key %s: seq %d after %d", fe.ConversationID, fe.Seq, last[fe.ConversationID])
		}
		last[fe.ConversationID] = fe.Seq
	}
}

func TestBatchLimitsAndOrder(t *testing.T) {
	alternating := []events.Type{events.TypeCommunicationEnded, events.TypeExternalEstablished}
	tests := []struct {
		name                string
		evs                 []events.Timed
		maxEvents, maxBytes int
		wantBatches         int
	}{
		{"count", genEvents(250, 7, []events.Type{events.TypeUserPresence}, 0, 10), 100, events.MaxRequestBytes, 3},
		{"bytes", genEvents(100, 7, []events.Type{events.TypeUserPresence}, 0, 200), 100, 2600, 0},
		// One key alternating A B A B: each return to an earlier array
		// must start a new batch.
		{"alternating types, one key", genEvents(6, 1, alternating, 0, 5), 100, events.MaxRequestBytes, 3},
		// Two keys: key-0 A, key-1 A, key-0 B, key-1 B, key-0 A → the last
		// one goes back to array A after B for key-0.
		{"alternating types, two keys", genEvents(6, 2, alternating, 0, 5), 100, events.MaxRequestBytes, 2},
		{"many types, many keys", genEvents(3000, 41, convTypes, 0, 30), 100, 20000, 0},
		{"one event over the byte limit goes alone", genEvents(3, 3, []events.Type{events.TypeUserPresence}, 0, 500), 100, 300, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs := batchAll(tc.evs, tc.maxEvents, tc.maxBytes)
			checkBatches(t, tc.evs, bs, tc.maxEvents, tc.maxBytes)
			if tc.wantBatches > 0 && len(bs) != tc.wantBatches {
				t.Errorf("%d batches, want %d", len(bs), tc.wantBatches)
			}
		})
	}
}

func TestBatchReuse(t *testing.T) {
	evs := genEvents(10, 2, []events.Type{events.TypeCommunicationEnded, events.TypeExternalEstablished}, 0, 5)
	b := &batch{}
	b.reset()
	for i := range evs[:4] {
		b.add(&evs[i].Event)
	}
	b.reset()
	if len(b.evs) != 0 || b.ntypes != 0 || len(b.keyPos) != 0 || b.size != 1 {
		t.Fatalf("reset left state: %d events, %d types, %d keys, size %d", len(b.evs), b.ntypes, len(b.keyPos), b.size)
	}
	bs := batchAll(evs, 100, events.MaxRequestBytes)
	checkBatches(t, evs, bs, 100, events.MaxRequestBytes)
}

// FuzzBatcher drives the batcher with events whose types, keys and sizes
// come from the input, and checks limits, size accounting and per-key
// order through AppendBatch and SplitBatch.
func FuzzBatcher(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(100), uint16(4000))
	f.Add([]byte{0x10, 0x01, 0x10, 0x01, 0x22, 0x02}, uint8(3), uint16(300))
	f.Add([]byte("the quick brown fox jumps over the lazy dog"), uint8(7), uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, maxEv uint8, maxBytes uint16) {
		if len(data) == 0 {
			return
		}
		maxEvents := int(maxEv)%100 + 1
		mb := int(maxBytes) + 64
		convs := events.Types()[:32]
		seq := map[string]int{}
		evs := make([]events.Timed, len(data))
		for i, c := range data {
			key := fmt.Sprintf("k%d", c&7)
			seq[key]++
			evs[i] = testEvent(convs[int(c>>3)%len(convs)], i, key, seq[key], time.Duration(i), int(c>>2))
		}
		checkBatches(t, evs, batchAll(evs, maxEvents, mb), maxEvents, mb)
	})
}

func TestLingerQueue(t *testing.T) {
	var q lingerQueue
	open := map[*batch]uint64{}
	isOpen := func(b *batch, seq uint64) bool { return open[b] == seq }
	bs := make([]*batch, 40)
	for i := range bs {
		bs[i] = &batch{seq: uint64(i + 1)}
		open[bs[i]] = bs[i].seq
		q.push(bs[i])
	}
	// Close every third by size; reuse one under a new seq.
	for i := 0; i < len(bs); i += 3 {
		delete(open, bs[i])
	}
	bs[3].seq = 99
	open[bs[3]] = 99
	var order []uint64
	for {
		b := q.peek(isOpen)
		if b == nil {
			break
		}
		order = append(order, b.seq)
		delete(open, b)
		q.pop()
	}
	want := 0
	for i := range bs {
		if i%3 != 0 {
			want++
		}
	}
	if len(order) != want {
		t.Fatalf("got %d open batches %v, want %d", len(order), order, want)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Fatalf("out of order: %v", order)
		}
	}
	if q.n != 0 {
		t.Errorf("queue holds %d stale entries after draining", q.n)
	}
}
