package recorder

import (
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

func TestReplayTiming(t *testing.T) {
	orig := sampleEvents()
	span := orig[len(orig)-1].At
	tests := []struct {
		name    string
		opts    ReplayOptions
		indexes []int // events of orig expected, in order
		at      func(i, loop int) time.Duration
	}{
		{"speed 1", ReplayOptions{Speed: 1}, seq(0, 14), func(i, _ int) time.Duration { return orig[i].At }},
		{"speed 2", ReplayOptions{Speed: 2}, seq(0, 14), func(i, _ int) time.Duration { return orig[i].At / 2 }},
		{"speed 0.5", ReplayOptions{Speed: 0.5}, seq(0, 14), func(i, _ int) time.Duration { return orig[i].At * 2 }},
		{"speed max", ReplayOptions{Speed: math.Inf(1)}, seq(0, 14), func(int, int) time.Duration { return 0 }},
		{"speed 0 is max", ReplayOptions{}, seq(0, 14), func(int, int) time.Duration { return 0 }},
		{"window", ReplayOptions{Speed: 1, From: time.Second, To: 4500 * time.Millisecond}, seq(2, 9), func(i, _ int) time.Duration { return orig[i].At - time.Second }},
		{"from only", ReplayOptions{Speed: 1, From: 5 * time.Second}, seq(11, 14), func(i, _ int) time.Duration { return orig[i].At - 5*time.Second }},
		{"loop 3", ReplayOptions{Speed: 1, Loop: 3}, append(append(seq(0, 14), seq(0, 14)...), seq(0, 14)...),
			func(i, loop int) time.Duration { return orig[i].At + time.Duration(loop)*span }},
		{"loop 2 window speed 2", ReplayOptions{Speed: 2, Loop: 2, From: time.Second, To: 3 * time.Second}, append(seq(2, 6), seq(2, 6)...),
			func(i, loop int) time.Duration {
				return (orig[i].At - time.Second + time.Duration(loop)*1500*time.Millisecond) / 2
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Replay(&sliceSource{evs: orig}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := drain(t, src)
			if len(got) != len(tc.indexes) {
				t.Fatalf("got %d events, want %d", len(got), len(tc.indexes))
			}
			perLoop := len(tc.indexes) / max(tc.opts.Loop, 1)
			seen := map[string]bool{}
			for j, i := range tc.indexes {
				loop := j / perLoop
				if want := tc.at(i, loop); got[j].At != want {
					t.Errorf("event %d (loop %d): At %v, want %v", j, loop, got[j].At, want)
				}
				if j > 0 && got[j].At < got[j-1].At {
					t.Errorf("event %d: At goes backwards", j)
				}
				if loop == 0 && (got[j].ID != orig[i].ID || string(got[j].JSON) != string(orig[i].JSON)) {
					t.Errorf("event %d: first loop changed without RewriteIDs", j)
				}
				if seen[got[j].ID] {
					t.Errorf("event %d: eventId %s repeats across loops", j, got[j].ID)
				}
				seen[got[j].ID] = true
			}
		})
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestReplayLoopRewindsFile checks that a file Reader is rewound rather than
// kept in memory, and gives the same stream as the in-memory path.
func TestReplayLoopRewindsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.ndjson.gz")
	w, err := Create(path, Header{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range sampleEvents() {
		w.Write(ev)
	}
	w.Close()
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	opts := ReplayOptions{Speed: 1, Loop: 3, RewriteIDs: true, RunID: "r"}
	fromFile, err := Replay(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.(*replayer).buffer {
		t.Fatal("file reader is buffered instead of rewound")
	}
	a := drain(t, fromFile)
	inMem, _ := Replay(&sliceSource{evs: sampleEvents()}, opts)
	b := drain(t, inMem)
	if len(a) != 42 || len(a) != len(b) {
		t.Fatalf("file gave %d, memory %d events; want 42", len(a), len(b))
	}
	for i := range a {
		if !eqTimed(a[i], b[i]) {
			t.Fatalf("event %d differs between file and memory replays", i)
		}
	}
}

func TestReplayRewriteIDs(t *testing.T) {
	orig := sampleEvents()
	run := func(id string) []events.Timed {
		src, err := Replay(&sliceSource{evs: orig}, ReplayOptions{Speed: 1, RewriteIDs: true, RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		return drain(t, src)
	}
	a, b, c := run("one"), run("one"), run("two")
	rw := NewRewriter("one")
	for i := range orig {
		if !eqTimed(a[i], b[i]) {
			t.Fatalf("event %d: not deterministic", i)
		}
		if a[i].ID == c[i].ID || a[i].ID != rw.ID(orig[i].ID) || a[i].At != orig[i].At {
			t.Fatalf("event %d: ID %s (other run %s), want %s", i, a[i].ID, c[i].ID, rw.ID(orig[i].ID))
		}
	}
}

func TestReplayShiftTime(t *testing.T) {
	orig := sampleEvents()
	now := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	calls := 0
	src, err := Replay(&sliceSource{evs: orig}, ReplayOptions{Speed: 1, ShiftTime: true, Loop: 2, Now: func() time.Time { calls++; return now }})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, src)
	delta := now.Sub(t0)
	span := orig[len(orig)-1].At
	for j, ev := range got {
		i, loop := j%len(orig), j/len(orig)
		was, _ := time.Parse(time.RFC3339Nano, flatten(t, orig[i].JSON)["eventDateTime"])
		want := was.Add(delta + time.Duration(loop)*span).Format(events.DateTimeLayout)
		if f := flatten(t, ev.JSON); f["eventDateTime"] != want {
			t.Errorf("event %d: eventDateTime %s, want %s", j, f["eventDateTime"], want)
		}
	}
	if first := flatten(t, got[0].JSON)["eventDateTime"]; first != "2026-07-01T09:00:00.000Z" {
		t.Errorf("first event at %s, want now", first)
	}
	if calls != 1 {
		t.Errorf("clock read %d times, want once", calls)
	}
}

func TestReplayOptionsInvalid(t *testing.T) {
	for name, o := range map[string]ReplayOptions{
		"negative speed": {Speed: -1},
		"NaN speed":      {Speed: math.NaN()},
		"to before from": {Speed: 1, From: 2 * time.Second, To: time.Second},
		"negative from":  {Speed: 1, From: -1},
		"negative loop":  {Speed: 1, Loop: -2},
	} {
		if _, err := Replay(&sliceSource{}, o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: err = %v, want ErrOptions", name, err)
		}
	}
}

func TestReplayBadTime(t *testing.T) {
	ev := sampleEvents()[0]
	ev.JSON = []byte(`{"eventId":"x","eventDateTime":"soon","userId":"u"}`)
	src, _ := Replay(&sliceSource{evs: []events.Timed{ev}}, ReplayOptions{Speed: 1, ShiftTime: true})
	if _, err := src.Next(t.Context()); !errors.Is(err, ErrBadCapture) {
		t.Fatalf("err = %v, want ErrBadCapture", err)
	}
}
