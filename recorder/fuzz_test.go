package recorder

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/loadgen/loadgen/internal/events"
)

// FuzzReader feeds arbitrary files to the Reader: it must never panic, and
// whatever it accepts must survive a write → read round trip unchanged.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ndjson")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(goodHeader + "\n" + `{"offsetMs":1.5,"endpoint":"presence","type":"UserPresenceEvent","event":` + presenceEvent + "}\n"))
	f.Add([]byte(goodHeader + "\n" + `{"offsetMs":1,"endpoint":"presence","type":"UserPresenceEvent","event":{"eventId":"a\"b","userId":"\u00e9"}}` + "\n{\"offsetMs\":0}"))
	f.Add([]byte(`{"kind":"loadgen-capture","version":9}`))
	f.Add([]byte(`{"userRoutingStatusEvents":[{"eventId":"a","eventDateTime":"2025-03-10T14:03:52Z"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz", ReadOptions{SkipBad: true})
		if err != nil {
			if !errors.Is(err, ErrBadCapture) && !errors.Is(err, ErrVersion) {
				t.Fatalf("NewReader error %v wraps neither sentinel", err)
			}
			return
		}
		var got []events.Timed
		for {
			ev, err := r.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrBadCapture) {
					t.Fatalf("Next error %v does not wrap ErrBadCapture", err)
				}
				return
			}
			got = append(got, ev)
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Created: created})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range got {
			if err := w.Write(ev); err != nil {
				t.Fatalf("writing an accepted event: %v", err)
			}
		}
		w.Close()
		r2, err := NewReader(&buf, "again", ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range got {
			ev, err := r2.Next(context.Background())
			if err != nil {
				t.Fatalf("re-reading event %d: %v\n%s", i, err, buf.Bytes())
			}
			if !eqTimed(ev, want) {
				t.Fatalf("event %d changed in the round trip:\n got %v %s %q %s\nwant %v %s %q %s", i, ev.At, ev.Type, ev.ID, ev.JSON, want.At, want.Type, want.ID, want.JSON)
			}
		}
		if _, err := r2.Next(context.Background()); err != io.EOF {
			t.Fatalf("after the round trip: %v, want EOF", err)
		}
	})
}
