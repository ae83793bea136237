package main

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/internal/mock"
)

// storm answers every batch with 429 and Retry-After: 1 during the first
// half of every 3-second period after the first, like a target whose limit
// is hit in bursts. Token requests pass.
type storm struct {
	next      http.Handler
	start     time.Time
	throttled atomic.Int64
}

func (s *storm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, ok := events.EndpointForPath(r.URL.Path); ok {
		el := time.Since(s.start)
		if el > 3*time.Second && el%(3*time.Second) < 1500*time.Millisecond {
			s.throttled.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"Rate limit exceeded","code":"too.many.requests.retry.after","status":429}`))
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

// TestChaos runs against a mock with 429 storms, 5xx, resets, stalls, slow
// bodies, per-event rejections and a token that expires every 2 s; the
// ledger must balance, the client's accepted counts must equal the mock's,
// every failure must be classified and no goroutine may leak.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 15 s")
	}
	base := runtime.NumGoroutine()
	srv, err := mock.New(mock.Config{
		Clients:       []mock.Client{{ID: testClientID, Secret: testClientSecret, Permissions: mock.AllPermissions()}},
		TokenLifetime: 2 * time.Second,
		RateLimit:     mock.RateLimit{PerMinute: -1},
		Seed:          7,
		Faults: mock.Faults{
			Latency:             mock.Latency{Kind: mock.LatencyLognormal, A: 2 * time.Millisecond, B: 40 * time.Millisecond},
			FailRates:           []mock.FailRate{{Status: 500, Rate: 0.04}, {Status: 503, Rate: 0.06}, {Status: 504, Rate: 0.02}},
			ResetRate:           0.03,
			Stall:               mock.Stall{Every: 2500 * time.Millisecond, For: 800 * time.Millisecond},
			SlowBody:            mock.SlowBody{Rate: 0.05, Duration: 200 * time.Millisecond},
			RejectRate:          0.01,
			RejectRetryableRate: 0.03,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := &storm{next: srv, start: time.Now()}
	hs := httptest.NewServer(st)
	t.Setenv(envClientID, testClientID)
	t.Setenv(envClientSecret, testClientSecret)
	t.Setenv(envAccessToken, "")

	out := t.TempDir()
	res := runCmd(t, "run", "testdata/chaos.yaml", "--quiet", "--target", hs.URL, "--out", out, "--timeout", "2s",
		"--threshold", "events.failed >= 0")
	hs.Close()
	// Faults make the scenario's own thresholds (no rejections) fail: exit 1, not 3.
	if res.code != exitOK && res.code != exitThreshold {
		t.Fatalf("exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	r := readRun(t, out)
	checkLedger(t, r)
	mst := srv.Stats()
	checkAgreesWithMock(t, r, mst)

	if st.throttled.Load() == 0 || r.Totals.Requests.Throttled == 0 {
		t.Errorf("no 429 storm happened (storm %d, run %d)", st.throttled.Load(), r.Totals.Requests.Throttled)
	}
	if r.Totals.Requests.Retries == 0 {
		t.Error("no retries under faults")
	}
	if mst.Faults.Stalls == 0 || mst.Faults.Resets == 0 || len(mst.Faults.Errors) == 0 {
		t.Errorf("not every fault happened: %+v", mst.Faults)
	}
	if mst.TokensIssued < 3 {
		t.Errorf("%d tokens issued for a run of several token lifetimes", mst.TokensIssued)
	}
	if r.Totals.Events.Accepted == 0 {
		t.Error("nothing accepted")
	}
	var mockRejected int64
	for _, e := range mst.Endpoints {
		mockRejected += e.Rejected
	}
	if r.Totals.Events.Rejected != mockRejected {
		t.Errorf("client rejected %d, mock rejected %d", r.Totals.Events.Rejected, mockRejected)
	}
	var grouped int64
	for _, g := range r.Failures.ByReason {
		grouped += g.Count
		if g.Reason == "" || strings.Contains(g.Reason, "unknown") {
			t.Errorf("unclassified failure group %+v", g)
		}
	}
	notAccepted := r.Totals.Events.Rejected + r.Totals.Events.Failed + r.Totals.Events.Unsent
	if grouped != notAccepted || r.Failures.Total != notAccepted {
		t.Errorf("failures grouped %d (total %d), events not accepted %d", grouped, r.Failures.Total, notAccepted)
	}
	t.Logf("chaos: %+v; requests %+v; mock faults %+v", r.Totals.Events, r.Totals.Requests, mst.Faults)

	// No goroutine outlives the run (idle keep-alive connections are closed
	// with the server above).
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d before, %d after\n%s", base, runtime.NumGoroutine(), buf[:n])
		}
		runtime.Gosched()
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}
