package recorder

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// benchEvents returns n sample events with non-decreasing offsets.
func benchEvents(n int) []events.Timed {
	base := sampleEvents()
	span := base[len(base)-1].At
	out := make([]events.Timed, 0, n)
	for i := 0; len(out) < n; i++ {
		ev := base[i%len(base)]
		ev.At += span * time.Duration(i/len(base))
		out = append(out, ev)
	}
	return out
}

func eventBytes(evs []events.Timed) int64 {
	var n int
	for _, ev := range evs {
		n += len(ev.JSON)
	}
	return int64(n / len(evs))
}

func BenchmarkWrite(b *testing.B) {
	evs := benchEvents(1 << 12)
	w, err := NewWriter(io.Discard, Header{Created: created})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(eventBytes(evs))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := evs[i%len(evs)]
		ev.At = time.Duration(i)
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	evs := benchEvents(1 << 14)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Header{Created: created})
	for _, ev := range evs {
		w.Write(ev)
	}
	w.Close()
	data := buf.Bytes()
	b.SetBytes(eventBytes(evs))
	b.ReportAllocs()
	ctx := context.Background()
	var r *Reader
	for b.Loop() {
		if r == nil {
			r, _ = NewReader(bytes.NewReader(data), "bench", ReadOptions{})
		}
		if _, err := r.Next(ctx); err == io.EOF {
			r = nil
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRewrite(b *testing.B) {
	evs := benchEvents(64)
	rw := NewRewriter("bench")
	b.SetBytes(eventBytes(evs))
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; b.Loop(); i++ {
		var err error
		if buf, err = rw.AppendJSON(buf[:0], evs[i%len(evs)].JSON); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay measures the whole replay transform per event: rewrite
// IDs and shift eventDateTime, as `replay --rewrite-ids --shift-time` does.
func BenchmarkReplay(b *testing.B) {
	evs := benchEvents(1 << 14)
	ctx := context.Background()
	b.SetBytes(eventBytes(evs))
	b.ReportAllocs()
	var src Source
	for b.Loop() {
		if src == nil {
			src, _ = Replay(&sliceSource{evs: evs}, ReplayOptions{Speed: 1, RewriteIDs: true, ShiftTime: true, RunID: "b"})
		}
		if _, err := src.Next(ctx); err == io.EOF {
			src = nil
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
