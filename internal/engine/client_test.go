package engine

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// With a cookie jar, http.Client.send calls req.AddCookie on the request's
// header: a header map shared across a lane's requests would grow a Cookie
// with every request. Each request must carry its own copy.
func TestCookieJarGetsItsOwnHeaders(t *testing.T) {
	var mu sync.Mutex
	var lens []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lens = append(lens, len(r.Header.Get("Cookie")))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "AWSALB", Value: "sticky"})
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"errors":[]}`))
	}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	evs := genEvents(50, 1, []events.Type{events.TypeUserPresence}, 0, 10)
	cfg := Config{Target: srv.URL, Unpaced: true, HTTPClient: hc, Batch: BatchConfig{MaxEvents: 1}, Limits: Limits{Lanes: 1}}
	sink := newLedgerSink(false)
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.check(t, sum)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("Cookie header lengths: first %v ... last %d", lens[:5], lens[len(lens)-1])
	if lens[len(lens)-1] > len("AWSALB=sticky") {
		t.Errorf("Cookie header grew to %d bytes after %d requests: %q...", lens[len(lens)-1], len(lens), strings.Repeat("AWSALB=sticky; ", 2))
	}
}

// A RoundTripper that is not net/http's Transport never fires the
// WroteRequest trace; the lane must not wait for it (each attempt would
// otherwise last the whole RequestTimeout).
type inProc struct{ h http.Handler }

func (p inProc) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func TestCustomTransportDoesNotWaitForWrite(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"errors":[]}`))
	})
	hc := &http.Client{Transport: inProc{h}}
	evs := genEvents(5, 1, []events.Type{events.TypeUserPresence}, 0, 10)
	cfg := Config{Target: "http://in.process", SkipPreflight: true, Unpaced: true, HTTPClient: hc,
		RequestTimeout: time.Second, Batch: BatchConfig{MaxEvents: 1}, Limits: Limits{Lanes: 1}}
	sink := newLedgerSink(false)
	start := time.Now()
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.check(t, sum)
	el := time.Since(start)
	t.Logf("5 requests to an instant in-process handler took %v (accepted %d)", el, sum.Accepted)
	if el > 3*time.Second {
		t.Errorf("each attempt waited for RequestTimeout: %v", el)
	}
}
