package recorder

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"c.ndjson", "c.ndjson.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			want := sampleEvents()
			w, err := Create(path, Header{Created: created, Source: "run", Scenario: "default", ScenarioHash: "sha256:ab", Seed: 42})
			if err != nil {
				t.Fatal(err)
			}
			got := drain(t, Tee(&sliceSource{evs: want}, w))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("tee passed %d events, want %d", len(got), len(want))
			}
			raw, _ := os.ReadFile(path)
			if gz := len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b; gz != strings.HasSuffix(name, ".gz") {
				t.Fatalf("gzip magic = %v for %s", gz, name)
			}
			r, err := Open(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := r.Header()
			if h.Kind != Kind || h.Version != 1 || !h.Created.Equal(created) || h.Seed != 42 || h.Scenario != "default" || h.Source != "run" {
				t.Fatalf("header = %+v", h)
			}
			back := drain(t, r)
			if len(back) != len(want) {
				t.Fatalf("read %d events, want %d", len(back), len(want))
			}
			for i := range want {
				if !eqTimed(back[i], want[i]) {
					t.Errorf("event %d:\n got %v %s %s %d %s\nwant %v %s %s %d %s", i, back[i].At, back[i].Type, back[i].ID, back[i].Key, back[i].JSON,
						want[i].At, want[i].Type, want[i].ID, want[i].Key, want[i].JSON)
				}
			}
		})
	}
}

func TestWriteDeterministic(t *testing.T) {
	write := func() []byte {
		var b bytes.Buffer
		w, err := NewWriter(&b, Header{Created: created, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range sampleEvents() {
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := write(), write()
	if !bytes.Equal(a, b) {
		t.Fatal("same events gave different bytes")
	}
	lines := strings.Split(strings.TrimSuffix(string(a), "\n"), "\n")
	if want := `{"kind":"loadgen-capture","version":1,"created":"2026-01-02T03:04:05Z","seed":7}`; lines[0] != want {
		t.Errorf("header line\n got %s\nwant %s", lines[0], want)
	}
	if !strings.HasPrefix(lines[5], `{"offsetMs":2500,"endpoint":"conversations","type":"UserEstablishedEvent","event":{"eventId":"00000000-0000-4000-8000-000000000005",`) {
		t.Errorf("line 5 = %s", lines[5])
	}
	if !strings.HasPrefix(lines[14], `{"offsetMs":6000.5,`) {
		t.Errorf("line 14 = %s", lines[14])
	}
}

func TestOffsetFormat(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{time.Millisecond, "1"},
		{1250500 * time.Millisecond, "1250500"},
		{1250*time.Millisecond + 500*time.Microsecond, "1250.5"},
		{1, "0.000001"},
		{time.Hour + 123456789, "3600123.456789"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := string(appendOffset(nil, tc.d)); got != tc.want {
				t.Fatalf("appendOffset(%v) = %s, want %s", tc.d, got, tc.want)
			}
			back, ok := parseOffset([]byte(tc.want))
			if !ok || back != tc.d {
				t.Fatalf("parseOffset(%s) = %v %v, want %v", tc.want, back, ok, tc.d)
			}
		})
	}
	for _, bad := range []string{"-1", "abc", "", "1e400", "NaN", "1.", ".5"} {
		if d, ok := parseOffset([]byte(bad)); ok {
			t.Errorf("parseOffset(%q) = %v, want failure", bad, d)
		}
	}
	if d, ok := parseOffset([]byte("1.5e3")); !ok || d != 1500*time.Millisecond {
		t.Errorf("parseOffset(1.5e3) = %v %v", d, ok)
	}
}

func TestWriterRefusesBackwards(t *testing.T) {
	w, err := NewWriter(io.Discard, Header{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	evs := sampleEvents()
	if err := w.Write(evs[4]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(evs[0]); !errors.Is(err, ErrBadCapture) {
		t.Fatalf("backwards write: err = %v, want ErrBadCapture", err)
	}
	w.Close()
	if err := w.Write(evs[5]); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: err = %v, want ErrClosed", err)
	}
}

const goodHeader = `{"kind":"loadgen-capture","version":1,"created":"2026-01-02T03:04:05Z"}`
const presenceEvent = `{"eventId":"9a2c7e1d-4b6f-4a83-b5d0-e1f7c3a9b246","eventDateTime":"2025-03-10T13:58:00.000Z","userId":"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36","sourceId":"e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08","presenceDefinitionId":"e08eaf1b-ee47-4fa9-a231-1200e284798f"}`

func TestReaderBadInput(t *testing.T) {
	good := `{"offsetMs":10,"endpoint":"presence","type":"UserPresenceEvent","event":` + presenceEvent + `}`
	tests := []struct {
		name  string
		lines []string
		kind  ErrorKind
		line  int
		field string
	}{
		{"malformed", []string{goodHeader, good, `{"offsetMs":12,`}, KindMalformed, 3, ""},
		{"unknown endpoint", []string{goodHeader, `{"offsetMs":10,"endpoint":"chat","type":"UserPresenceEvent","event":` + presenceEvent + `}`}, KindUnknownEndpoint, 2, "endpoint"},
		{"unknown type", []string{goodHeader, `{"offsetMs":10,"endpoint":"presence","type":"ChatEvent","event":` + presenceEvent + `}`}, KindUnknownType, 2, "type"},
		{"wrong endpoint", []string{goodHeader, `{"offsetMs":10,"endpoint":"routingstatus","type":"UserPresenceEvent","event":` + presenceEvent + `}`}, KindWrongEndpoint, 2, "type"},
		{"missing eventId", []string{goodHeader, `{"offsetMs":10,"endpoint":"presence","type":"UserPresenceEvent","event":{"userId":"x"}}`}, KindMissingID, 2, "event.eventId"},
		{"backwards", []string{goodHeader, good, `{"offsetMs":9.5,"endpoint":"presence","type":"UserPresenceEvent","event":` + presenceEvent + `}`}, KindBackwards, 3, "offsetMs"},
		{"negative offset", []string{goodHeader, `{"offsetMs":-1,"endpoint":"presence","type":"UserPresenceEvent","event":` + presenceEvent + `}`}, KindMalformed, 2, "offsetMs"},
		{"missing offset", []string{goodHeader, `{"endpoint":"presence","type":"UserPresenceEvent","event":` + presenceEvent + `}`}, KindMalformed, 2, "offsetMs"},
		{"unknown key", []string{goodHeader, `{"offsetMs":1,"endpoint":"presence","type":"UserPresenceEvent","event":` + presenceEvent + `,"extra":1}`}, KindMalformed, 2, ""},
		{"event not object", []string{goodHeader, `{"offsetMs":1,"endpoint":"presence","type":"UserPresenceEvent","event":[1]}`}, KindMalformed, 2, "event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Join(tc.lines, "\n") + "\n"
			r, err := NewReader(strings.NewReader(in), "cap.ndjson", ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var lerr *LineError
			for err == nil {
				_, err = r.Next(context.Background())
			}
			if !errors.As(err, &lerr) || !errors.Is(err, ErrBadCapture) {
				t.Fatalf("err = %v, want a *LineError wrapping ErrBadCapture", err)
			}
			if lerr.Kind != tc.kind || lerr.Line != tc.line || lerr.Field != tc.field || lerr.File != "cap.ndjson" {
				t.Fatalf("got kind %s line %d field %q file %s, want %s %d %q", lerr.Kind, lerr.Line, lerr.Field, lerr.File, tc.kind, tc.line, tc.field)
			}
			prefix := "cap.ndjson:" + itoa(tc.line) + ": "
			if tc.field != "" {
				prefix += tc.field + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("message %q does not start with %q", err, prefix)
			}

			// SkipBad goes on and counts.
			r, err = NewReader(strings.NewReader(in), "cap.ndjson", ReadOptions{SkipBad: true})
			if err != nil {
				t.Fatal(err)
			}
			evs := drain(t, r)
			goodLines := 0
			for _, l := range tc.lines[1:] {
				if l == good {
					goodLines++
				}
			}
			if len(evs) != goodLines || r.Skipped() != len(tc.lines)-1-goodLines {
				t.Fatalf("SkipBad: %d events, %d skipped; want %d, %d", len(evs), r.Skipped(), goodLines, len(tc.lines)-1-goodLines)
			}
		})
	}
}

func itoa(i int) string { return string(appendUint(nil, uint64(i))) }

func TestReaderHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
		kind    ErrorKind
	}{
		{"newer version", `{"kind":"loadgen-capture","version":2}` + "\n", ErrVersion, KindVersion},
		{"wrong kind", `{"kind":"other","version":1}` + "\n", ErrBadCapture, KindHeader},
		{"zero version", `{"kind":"loadgen-capture","version":0}` + "\n", ErrBadCapture, KindHeader},
		{"no header", `{"offsetMs":1,"endpoint":"presence","type":"UserPresenceEvent","event":{}}` + "\n", ErrBadCapture, KindHeader},
		{"not json", "hello\n", ErrBadCapture, KindMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.in), "x", ReadOptions{SkipBad: true})
			var lerr *LineError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &lerr) || lerr.Kind != tc.kind || lerr.Line != 1 {
				t.Fatalf("err = %v, want %v kind %s on line 1", err, tc.wantErr, tc.kind)
			}
		})
	}
	_, err := NewReader(strings.NewReader(`{"kind":"loadgen-capture","version":2}`+"\n"), "x", ReadOptions{})
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("version message %q does not say newer", err)
	}
	// An empty file is an empty capture.
	r, err := NewReader(strings.NewReader(""), "x", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if evs := drain(t, r); len(evs) != 0 {
		t.Fatalf("empty input gave %d events", len(evs))
	}
}

// TestKilledWriter cuts a capture at every byte and checks that each cut
// reads up to its last whole line, for plain and gzip files.
func TestKilledWriter(t *testing.T) {
	var full bytes.Buffer
	w, _ := NewWriter(&full, Header{Created: created})
	evs := sampleEvents()
	for _, ev := range evs {
		w.Write(ev)
	}
	w.Close()
	data := full.Bytes()
	for cut := len(goodHeader) + 1; cut <= len(data); cut += 7 {
		part := data[:cut]
		r, err := NewReader(bytes.NewReader(part), "cut", ReadOptions{})
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		got := drain(t, r)
		whole := bytes.Count(part, []byte("\n")) - 1
		if whole < 0 {
			whole = 0
		}
		if cut < len(data) && data[cut] == '\n' {
			whole++ // the line is whole, only its newline is missing
		}
		if len(got) != whole {
			t.Fatalf("cut %d: read %d events, want %d whole lines", cut, len(got), whole)
		}
		if wantTrunc := part[cut-1] != '\n' && (cut == len(data) || data[cut] != '\n'); r.Truncated() != wantTrunc {
			t.Fatalf("cut %d: Truncated = %v, want %v", cut, r.Truncated(), wantTrunc)
		}
	}

	// gzip: a writer that flushed after each event and then died.
	var gz bytes.Buffer
	w, _ = newWriter(&gz, Header{Created: created}, true)
	for i, ev := range evs {
		w.Write(ev)
		if i == 9 {
			w.Flush()
		}
	}
	// No Close: the process was killed; add a torn tail.
	cut := gz.Bytes()
	r, err := NewReader(bytes.NewReader(cut), "cut.gz", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, r)
	if len(got) != 10 || !r.Truncated() {
		t.Fatalf("killed gzip writer: read %d events (truncated %v), want 10 (true)", len(got), r.Truncated())
	}
	for i := range got {
		if !eqTimed(got[i], evs[i]) {
			t.Fatalf("event %d differs", i)
		}
	}
}

func TestSlowPathLayouts(t *testing.T) {
	in := goodHeader + "\n\n" +
		`{ "type":"UserPresenceEvent", "endpoint":"presence", "offsetMs": 1.5e3, "event": ` + presenceEvent + " }\r\n"
	r, err := NewReader(strings.NewReader(in), "x", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs := drain(t, r)
	if len(evs) != 1 || evs[0].At != 1500*time.Millisecond || evs[0].Type != events.TypeUserPresence ||
		evs[0].ID != "9a2c7e1d-4b6f-4a83-b5d0-e1f7c3a9b246" || evs[0].Key != events.KeyOf(userID) || string(evs[0].JSON) != presenceEvent {
		t.Fatalf("got %+v", evs)
	}
}
