package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/internal/mock"
	"github.com/loadgen/loadgen/recorder"
)

// tap records the events of every batch the mock answered with 2xx, as
// "endpoint type json" strings, so tests can compare what arrived.
type tap struct {
	next http.Handler
	mu   sync.Mutex
	got  []string
}

func (tp *tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, ok := events.EndpointForPath(r.URL.Path)
	if !ok {
		tp.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	tp.next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
	if rec.Code/100 != 2 {
		return
	}
	raws, err := events.SplitBatch(ep, body)
	if err != nil {
		return
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, raw := range raws {
		tp.got = append(tp.got, ep.String()+" "+raw.Type.String()+" "+string(raw.JSON))
	}
}

func (tp *tap) sorted() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	out := append([]string(nil), tp.got...)
	sort.Strings(out)
	return out
}

func startTappedMock(t *testing.T) (string, *mock.Server, *tap) {
	t.Helper()
	srv, err := mock.New(mock.Config{
		Clients:   []mock.Client{{ID: testClientID, Secret: testClientSecret, Permissions: mock.AllPermissions()}},
		RateLimit: mock.RateLimit{PerMinute: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{next: srv}
	hs := httptest.NewServer(tp)
	t.Cleanup(hs.Close)
	t.Setenv(envClientID, testClientID)
	t.Setenv(envClientSecret, testClientSecret)
	t.Setenv(envAccessToken, "")
	return hs.URL, srv, tp
}

// captureLines reads a capture into the same form as tap.
func captureLines(t *testing.T, path string) []string {
	t.Helper()
	rd, err := recorder.Open(path, recorder.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []string
	for {
		ev, err := rd.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Type.Endpoint().String()+" "+ev.Type.String()+" "+string(ev.JSON))
	}
	sort.Strings(out)
	return out
}

func eventIDs(t *testing.T, lines []string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, l := range lines {
		var ev struct {
			EventID string `json:"eventId"`
		}
		// The JSON object starts after "endpoint type ".
		i := bytes.IndexByte([]byte(l), '{')
		if err := json.Unmarshal([]byte(l[i:]), &ev); err != nil {
			t.Fatal(err)
		}
		ids[ev.EventID] = true
	}
	return ids
}

// TestRecordThenReplay: run --record, then replay --speed max sends the same
// multiset of (endpoint, type, event); with --rewrite-ids every ID is new and
// the mock's life-cycle checks still find nothing wrong.
func TestRecordThenReplay(t *testing.T) {
	url, _, first := startTappedMock(t)
	dir := t.TempDir()
	capture := filepath.Join(dir, "run.ndjson")
	res := runCmd(t, "run", "--quiet", "--target", url, "--out", filepath.Join(dir, "run"), "--duration", "4s", "--record", capture)
	if res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	recorded := captureLines(t, capture)
	sent := first.sorted()
	if len(recorded) == 0 || !equalStrings(recorded, sent) {
		t.Fatalf("capture (%d events) differs from what the target received (%d events)", len(recorded), len(sent))
	}

	t.Run("same events", func(t *testing.T) {
		url, srv, tp := startTappedMock(t)
		res := runCmd(t, "replay", capture, "--speed", "max", "--quiet", "--target", url, "--out", filepath.Join(dir, "replay"))
		if res.code != exitOK {
			t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
		}
		if got := tp.sorted(); !equalStrings(got, recorded) {
			t.Errorf("replay sent %d events, capture has %d; multisets differ", len(got), len(recorded))
		}
		if v := srv.Stats().SequenceViolations.Total; v != 0 {
			t.Errorf("%d sequence violations on replay", v)
		}
	})

	t.Run("rewritten ids", func(t *testing.T) {
		url, srv, tp := startTappedMock(t)
		out := filepath.Join(dir, "rewrite")
		res := runCmd(t, "replay", capture, "--speed", "max", "--rewrite-ids", "--run-id", "r2", "--quiet", "--target", url, "--out", out)
		if res.code != exitOK {
			t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
		}
		got := tp.sorted()
		if len(got) != len(recorded) {
			t.Fatalf("replay sent %d events, capture has %d", len(got), len(recorded))
		}
		old := eventIDs(t, recorded)
		for id := range eventIDs(t, got) {
			if old[id] {
				t.Fatalf("eventId %s was not rewritten", id)
			}
		}
		st := srv.Stats()
		if st.SequenceViolations.Total != 0 {
			t.Errorf("rewritten replay: %d sequence violations: %+v", st.SequenceViolations.Total, st.SequenceViolations)
		}
		checkAgreesWithMock(t, readRun(t, out), st)
	})

	t.Run("bad line", func(t *testing.T) {
		raw, err := os.ReadFile(capture)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(raw), "\n")
		bad := filepath.Join(dir, "bad.ndjson")
		// Line 3 of the file becomes garbage.
		lines = append(lines[:2], append([]string{"{not json\n"}, lines[2:]...)...)
		os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644)
		url, _, _ := startTappedMock(t)
		res := runCmd(t, "replay", bad, "--speed", "max", "--quiet", "--target", url, "--out", filepath.Join(dir, "bad1"))
		if res.code != exitUsage || !strings.Contains(res.stderr, "bad.ndjson:3") {
			t.Errorf("bad line: exit %d, want 2 naming bad.ndjson:3\n%s", res.code, res.stderr)
		}
		out := filepath.Join(dir, "bad2")
		res = runCmd(t, "replay", bad, "--skip-bad", "--speed", "max", "--quiet", "--target", url, "--out", out)
		if res.code != exitOK {
			t.Fatalf("--skip-bad: exit %d\n%s", res.code, res.stderr)
		}
		r := readRun(t, out)
		if r.Replay == nil || r.Replay.SkippedLines != 1 || r.Totals.Events.Accepted != int64(len(recorded)) {
			t.Errorf("--skip-bad: replay %+v, accepted %d, want 1 skipped line and %d accepted", r.Replay, r.Totals.Events.Accepted, len(recorded))
		}
		checkLedger(t, r)
	})

	t.Run("speed 4 takes a quarter of the time", func(t *testing.T) {
		url, _, _ := startTappedMock(t)
		out := filepath.Join(dir, "speed")
		start := time.Now()
		res := runCmd(t, "replay", capture, "--speed", "4", "--quiet", "--target", url, "--out", out)
		if res.code != exitOK {
			t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
		}
		took := time.Since(start)
		r := readRun(t, filepath.Join(dir, "run"))
		span := r.Run.Duration()
		// Generous tolerance: the span includes the batches' linger.
		if took > span/4+2*time.Second {
			t.Errorf("replay at speed 4 took %s for a run of %s", took, span)
		}
		// Fidelity: actual send times against the capture's offsets / 4.
		// A few ms on this machine; the bound leaves room for -race and load.
		rp := readRun(t, out)
		if lag := rp.Totals.ScheduleLag.P99; lag > 25 {
			t.Errorf("replay schedule lag p99 %.3f ms, want a few ms", lag)
		}
		t.Logf("speed 4: took %s for a %s capture; schedule lag p99 %.3f ms", took, span, rp.Totals.ScheduleLag.P99)
	})

	t.Run("speed 1 keeps the original timing", func(t *testing.T) {
		url, _, _ := startTappedMock(t)
		out := filepath.Join(dir, "speed1")
		res := runCmd(t, "replay", capture, "--quiet", "--target", url, "--out", out)
		if res.code != exitOK {
			t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
		}
		rp, orig := readRun(t, out), readRun(t, filepath.Join(dir, "run"))
		if d, want := rp.Run.Duration(), orig.Run.Duration(); d < want-time.Second || d > want+time.Second {
			t.Errorf("replay at speed 1 lasted %s, the recorded run %s", d, want)
		}
		if lag := rp.Totals.ScheduleLag.P99; lag > 25 {
			t.Errorf("replay schedule lag p99 %.3f ms, want a few ms", lag)
		}
		t.Logf("speed 1: %s for a %s run; schedule lag p99 %.3f ms", rp.Run.Duration(), orig.Run.Duration(), rp.Totals.ScheduleLag.P99)
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
