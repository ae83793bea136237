package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

var convTypes = []events.Type{events.TypeExternalEstablished, events.TypeCommunicationAnswered, events.TypeHoldUpdated, events.TypeCommunicationEnded}

func TestRunAccountsForEveryEvent(t *testing.T) {
	tests := []struct {
		name      string
		evs       []events.Timed
		batch     BatchConfig
		lanes     int
		wantMaxEv int
	}{
		{"presence only", genEvents(1000, 50, []events.Type{events.TypeUserPresence}, 0, 20), BatchConfig{}, 4, 100},
		{"three endpoints", append(genEvents(900, 30, convTypes, 0, 20),
			genEventsOffset(300, 10, []events.Type{events.TypeUserRoutingStatus, events.TypeUserPresence}, 10000)...), BatchConfig{MaxEvents: 37}, 8, 37},
		{"small bodies", genEvents(500, 20, convTypes, 0, 150), BatchConfig{MaxBytes: 2000}, 3, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, nil)
			sink := newLedgerSink(false)
			cfg := Config{Target: srv.URL, Unpaced: true, Batch: tc.batch, Limits: Limits{Lanes: tc.lanes}}
			sum, err := Run(t.Context(), cfg, &sliceSource{evs: tc.evs}, sink)
			if err != nil {
				t.Fatal(err)
			}
			counts := sink.check(t, sum)
			if got, want := counts[report.Accepted], len(tc.evs); got != want {
				t.Errorf("accepted %d, want %d", got, want)
			}
			if got := api.totalAccepted(); got != counts[report.Accepted] {
				t.Errorf("server accepted %d, sink %d", got, counts[report.Accepted])
			}
			if api.maxEvents > tc.wantMaxEv {
				t.Errorf("a request carried %d events, limit %d", api.maxEvents, tc.wantMaxEv)
			}
			if mb := tc.batch.MaxBytes; mb > 0 && api.maxBytes > mb {
				t.Errorf("a request body was %d bytes, limit %d", api.maxBytes, mb)
			}
			if len(api.violations) > 0 {
				t.Errorf("order broken %d times, e.g. %s", len(api.violations), api.violations[0])
			}
			if sum.Cause != nil {
				t.Errorf("Cause = %v, want nil", sum.Cause)
			}
		})
	}
}

// genEventsOffset is genEvents with ids starting at base, for mixing sets.
func genEventsOffset(n, nkeys int, types []events.Type, base int) []events.Timed {
	evs := genEvents(n, nkeys, types, 0, 20)
	for i := range evs {
		k := fmt.Sprintf("agent-%d", i%nkeys)
		ev := testEvent(evs[i].Type, base+i, k, i/nkeys+1, 0, 20)
		evs[i] = ev
	}
	return evs
}

func TestRunKeepsOrderPerKey(t *testing.T) {
	// Random delays make requests overtake each other; per-key order must
	// survive anyway, across types that land in different body arrays.
	var n atomic.Int64
	api, srv := newFakeAPI(t, func(int64, events.Endpoint, []fakeEvent, *http.Request) fakeResp {
		if n.Add(1)%3 == 0 {
			ch := make(chan struct{})
			time.AfterFunc(2*time.Millisecond, func() { close(ch) })
			return fakeResp{status: 202, hold: ch}
		}
		return fakeResp{status: 200}
	})
	// Many types per key in a short cycle forces the array-order rule.
	types := []events.Type{events.TypeCommunicationEnded, events.TypeExternalEstablished, events.TypeCommunicationAnswered, events.TypeHoldUpdated, events.TypeExternalEstablished}
	evs := genEvents(4000, 37, types, 0, 10)
	sink := newLedgerSink(false)
	cfg := Config{Target: srv.URL, Unpaced: true, Limits: Limits{Lanes: 16, MaxInFlight: 16}, Batch: BatchConfig{MaxEvents: 25}}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.check(t, sum)
	if len(api.violations) > 0 {
		t.Fatalf("order broken %d times, e.g. %s", len(api.violations), api.violations[0])
	}
	if api.totalAccepted() != len(evs) {
		t.Errorf("server accepted %d of %d", api.totalAccepted(), len(evs))
	}
	if api.maxIn.Load() < 2 {
		t.Errorf("max in flight %d: the test did not exercise concurrency", api.maxIn.Load())
	}
}

func TestRunRetries(t *testing.T) {
	tests := []struct {
		name string
		mode RetryMode
		hook func(n int64, evs []fakeEvent) fakeResp
		// want
		accepted, rejected, failed int
		minRequests                int
		kind                       report.ErrorKind // expected on some Result
		timeout                    time.Duration
	}{
		{
			name: "timeout then ok",
			hook: func(n int64, _ []fakeEvent) fakeResp {
				if n == 1 {
					return fakeResp{status: 202, hold: make(chan struct{})} // never answers
				}
				return fakeResp{status: 202}
			},
			accepted: 10, minRequests: 2, kind: report.ErrTimeout, timeout: 100 * time.Millisecond,
		},
		{
			name: "429 then ok",
			hook: func(n int64, _ []fakeEvent) fakeResp {
				if n == 1 {
					return fakeResp{status: 429, retryAfter: "0.05", body: `{"message":"slow down","code":"too.many.requests.retry.after","status":429}`}
				}
				return fakeResp{status: 202}
			},
			accepted: 10, minRequests: 2, kind: report.ErrThrottled,
		},
		{
			name: "503 twice then ok",
			hook: func(n int64, _ []fakeEvent) fakeResp {
				if n <= 2 {
					return fakeResp{status: 503, body: `{"message":"down","code":"service.unavailable"}`}
				}
				return fakeResp{status: 200}
			},
			accepted: 10, minRequests: 3, kind: report.ErrStatus,
		},
		{
			name: "retryable event errors are resent",
			hook: func(n int64, evs []fakeEvent) fakeResp {
				if n == 1 {
					return fakeResp{status: 200, errs: []events.EventError{
						{EventID: evs[0].EventID, Message: "busy", Retryable: true},
						{EventID: evs[1].EventID, Message: "bad field", Retryable: false},
					}}
				}
				return fakeResp{status: 200}
			},
			accepted: 9, rejected: 1, minRequests: 2, kind: report.ErrNone,
		},
		{
			name:   "Retry-After over the cap fails",
			hook:   func(int64, []fakeEvent) fakeResp { return fakeResp{status: 429, retryAfter: "3600"} },
			failed: 10, minRequests: 1, kind: report.ErrThrottled,
		},
		{
			name: "400 is final",
			hook: func(int64, []fakeEvent) fakeResp {
				return fakeResp{status: 400, body: `{"message":"bad","code":"bad.request"}`}
			},
			failed: 10, minRequests: 1, kind: report.ErrStatus,
		},
		{
			name: "measure mode does not retry",
			mode: RetryMeasure,
			hook: func(n int64, evs []fakeEvent) fakeResp {
				return fakeResp{status: 200, errs: []events.EventError{{EventID: evs[0].EventID, Message: "busy", Retryable: true}}}
			},
			accepted: 9, rejected: 1, minRequests: 1, kind: report.ErrNone,
		},
		{
			name:     "measure mode 429 is an outcome",
			mode:     RetryMeasure,
			hook:     func(int64, []fakeEvent) fakeResp { return fakeResp{status: 429, retryAfter: "0"} },
			failed:   10,
			kind:     report.ErrThrottled,
			accepted: 0, minRequests: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, func(n int64, _ events.Endpoint, evs []fakeEvent, _ *http.Request) fakeResp { return tc.hook(n, evs) })
			sink := newLedgerSink(true)
			cfg := Config{
				Target: srv.URL, Unpaced: true, Limits: Limits{Lanes: 1}, RequestTimeout: tc.timeout,
				Retry: RetryConfig{Mode: tc.mode, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: time.Second},
			}
			sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(10, 3, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
			if err != nil {
				t.Fatal(err)
			}
			c := sink.check(t, sum)
			if c[report.Accepted] != tc.accepted || c[report.Rejected] != tc.rejected || c[report.Failed] != tc.failed {
				t.Errorf("outcomes %v, want accepted %d rejected %d failed %d", c, tc.accepted, tc.rejected, tc.failed)
			}
			if got := api.totalAccepted(); got != tc.accepted {
				t.Errorf("server accepted %d, want %d", got, tc.accepted)
			}
			if got := int(api.requests.Load()); got < tc.minRequests {
				t.Errorf("server saw %d requests, want ≥ %d", got, tc.minRequests)
			}
			if tc.mode == RetryMeasure && api.requests.Load() != 1 {
				t.Errorf("measure mode sent %d requests, want 1", api.requests.Load())
			}
			found := false
			for _, r := range sink.results {
				found = found || r.Kind == tc.kind
				if r.Kind == report.ErrThrottled && r.Attempt > 0 && r.Status != 429 {
					t.Errorf("throttled result has status %d", r.Status)
				}
			}
			if !found {
				t.Errorf("no Result of kind %v", tc.kind)
			}
		})
	}
}

func TestRunRetryAfterIsHonoured(t *testing.T) {
	api, srv := newFakeAPI(t, func(n int64, _ events.Endpoint, _ []fakeEvent, _ *http.Request) fakeResp {
		if n == 1 {
			return fakeResp{status: 429, retryAfter: "0.3"}
		}
		return fakeResp{status: 202}
	})
	sink := newLedgerSink(true)
	cfg := Config{Target: srv.URL, Unpaced: true, Limits: Limits{Lanes: 1}, Retry: RetryConfig{BaseBackoff: time.Millisecond}}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(5, 1, []events.Type{events.TypeUserRoutingStatus}, 0, 5)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.check(t, sum)
	if len(api.times) != 2 {
		t.Fatalf("%d requests, want 2", len(api.times))
	}
	if gap := api.times[1].Sub(api.times[0]); gap < 300*time.Millisecond {
		t.Errorf("retry came %v after the 429, want ≥ 300ms", gap)
	}
	r := sink.results[0]
	if r.RetryAfter != 300*time.Millisecond || r.Kind != report.ErrThrottled || r.Events[0].Outcome != report.Retry {
		t.Errorf("first result: RetryAfter %v kind %v outcome %v", r.RetryAfter, r.Kind, r.Events[0].Outcome)
	}
	if got := sink.results[1]; got.Attempt != 2 || got.FirstIntended != r.FirstIntended || !got.Intended.After(r.Intended) {
		t.Errorf("retry result: attempt %d first %v intended %v", got.Attempt, got.FirstIntended, got.Intended)
	}
}

func TestRunRetryBudget(t *testing.T) {
	api, srv := newFakeAPI(t, func(int64, events.Endpoint, []fakeEvent, *http.Request) fakeResp {
		return fakeResp{status: 503}
	})
	sink := newLedgerSink(true)
	cfg := Config{
		Target: srv.URL, Unpaced: true, Batch: BatchConfig{MaxEvents: 1}, Limits: Limits{Lanes: 2},
		Retry: RetryConfig{BaseBackoff: time.Microsecond, MaxBackoff: time.Microsecond, Budget: 0.1, BudgetFloor: 2, MaxAttempts: 10},
	}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(100, 10, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	c := sink.check(t, sum)
	if c[report.Failed] != 100 {
		t.Errorf("failed %d, want 100", c[report.Failed])
	}
	// 100 first attempts at 10 % plus a floor of 2.
	if sum.Retries > 12 {
		t.Errorf("%d retries, budget allows 12", sum.Retries)
	}
	if got := api.requests.Load(); got != int64(100+sum.Retries) {
		t.Errorf("server saw %d requests, want %d", got, 100+sum.Retries)
	}
	budgeted := 0
	for _, r := range sink.results {
		if r.Kind == report.ErrBudget {
			budgeted++
			if r.Status != 503 || !strings.Contains(r.Error, "budget") {
				t.Errorf("budget result: status %d error %q", r.Status, r.Error)
			}
		}
	}
	if budgeted < 80 {
		t.Errorf("%d results failed on the budget, want ≥ 80", budgeted)
	}
}

// tokenServer serves /oauth/token with a sequence of tokens.
func tokenServer(t *testing.T, mux *http.ServeMux, fetches *atomic.Int64, refuse bool) {
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "client" || secret != "s3cret" || r.FormValue("grant_type") != "client_credentials" {
			t.Errorf("token request: basic auth %v %q, grant %q", ok, id, r.FormValue("grant_type"))
		}
		w.Header().Set("Content-Type", "application/json")
		if refuse {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"client not found"}`)
			return
		}
		n := fetches.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":86400}`, n)
	})
}

func TestRunRefreshesTokenOn401(t *testing.T) {
	var fetches atomic.Int64
	f := &fakeAPI{t: t, acceptedBy: map[string]int{}, lastSeq: map[string]int{}}
	var saw401 atomic.Bool
	f.hook = func(_ int64, _ events.Endpoint, _ []fakeEvent, r *http.Request) fakeResp {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			saw401.Store(true)
			return fakeResp{status: 401, body: `{"message":"expired","code":"credentials.expired"}`}
		}
		if r.Header.Get("Authorization") != "Bearer tok-2" {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		return fakeResp{status: 202}
	}
	mux := http.NewServeMux()
	tokenServer(t, mux, &fetches, false)
	mux.Handle("/api/", f)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	sink := newLedgerSink(true)
	cfg := Config{Target: srv.URL, Unpaced: true, Limits: Limits{Lanes: 1}, Tokens: NewClientCredentials(srv.URL, "client", "s3cret", srv.Client())}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(250, 5, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	c := sink.check(t, sum)
	if c[report.Accepted] != 250 || !saw401.Load() {
		t.Errorf("accepted %d (saw 401: %v), want 250", c[report.Accepted], saw401.Load())
	}
	if got := fetches.Load(); got != 2 {
		t.Errorf("%d token fetches, want 2 (preflight, one refresh)", got)
	}
	for _, r := range sink.results {
		if strings.Contains(r.Error, "tok-") || strings.Contains(r.Error, "s3cret") {
			t.Errorf("a Result leaks a credential: %q", r.Error)
		}
	}
}

func TestRunStopsOnRepeatedAuthFailure(t *testing.T) {
	tests := []struct {
		name   string
		status int
		tokens TokenSource
	}{
		{"403", 403, StaticToken("very-secret-token")},
		{"401 with a static token", 401, StaticToken("very-secret-token")},
		{"401 without a token", 401, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, func(_ int64, _ events.Endpoint, _ []fakeEvent, r *http.Request) fakeResp {
				return fakeResp{status: tc.status, body: `{"message":"no: ` + r.Header.Get("Authorization") + `","code":"missing.permissions"}`}
			})
			sink := newLedgerSink(true)
			cfg := Config{Target: srv.URL, Tokens: tc.tokens, Batch: BatchConfig{Linger: time.Millisecond}, Limits: Limits{Lanes: 1}}
			// Paced over 10 s: the run must stop long before.
			start := time.Now()
			sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(100, 1, []events.Type{events.TypeUserPresence}, 100*time.Millisecond, 5)}, sink)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("stopping took %v", d)
			}
			msg := err.Error()
			if !strings.Contains(msg, "presence") || !strings.Contains(msg, fmt.Sprint(tc.status)) || strings.Contains(msg, "very-secret-token") {
				t.Errorf("error %q: want the endpoint and status, never the token", msg)
			}
			if !errors.Is(sum.Cause, ErrAuth) {
				t.Errorf("Cause = %v", sum.Cause)
			}
			c := sink.check(t, sum)
			if c[report.Unsent] == 0 || c[report.Failed] == 0 {
				t.Errorf("outcomes %v: want some failed and the rest unsent", c)
			}
			if n := api.requests.Load(); n > 4 {
				t.Errorf("%d requests: the run kept hammering", n)
			}
			for _, r := range sink.results {
				if strings.Contains(r.Error, "very-secret-token") {
					t.Errorf("Result.Error leaks the token: %q", r.Error)
				}
			}
		})
	}
}

func TestRunPreflight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	var fetches atomic.Int64
	mux := http.NewServeMux()
	tokenServer(t, mux, &fetches, true)
	refusing := httptest.NewServer(mux)
	t.Cleanup(refusing.Close)

	tests := []struct {
		name    string
		cfg     Config
		want    error
		mention string
	}{
		{"closed port", Config{Target: "http://" + closed}, ErrUnreachable, closed},
		{"refused credentials", Config{Target: refusing.URL, Tokens: NewClientCredentials(refusing.URL, "client", "s3cret", nil)}, ErrAuth, "invalid_client"},
		{"token host unreachable", Config{Target: refusing.URL, Tokens: NewClientCredentials("http://"+closed, "client", "s3cret", nil)}, ErrUnreachable, closed},
		{"bad target", Config{Target: "ftp://x"}, ErrConfig, "Target"},
		{"bad limit", Config{Target: refusing.URL, Batch: BatchConfig{MaxEvents: 101}}, ErrConfig, "MaxEvents"},
		{"negative rate", Config{Target: refusing.URL, Limits: Limits{RequestsPerSecond: -1}}, ErrConfig, "RequestsPerSecond"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newLedgerSink(false)
			start := time.Now()
			_, err := Run(t.Context(), tc.cfg, &sliceSource{evs: genEvents(10, 1, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("failing took %v, want well under a second", d)
			}
			if !strings.Contains(err.Error(), tc.mention) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line naming %q and no secret", err, tc.mention)
			}
			if sink.gen.Load() != 0 {
				t.Errorf("%d events taken before the preflight passed", sink.gen.Load())
			}
		})
	}
}

func TestRunCancelMidRun(t *testing.T) {
	baseline := runtime.NumGoroutine()
	release := make(chan struct{})
	var stalled atomic.Bool
	api, srv := newFakeAPI(t, func(n int64, _ events.Endpoint, _ []fakeEvent, _ *http.Request) fakeResp {
		if n > 20 {
			stalled.Store(true)
			return fakeResp{status: 202, hold: release} // the target stalls
		}
		return fakeResp{status: 202}
	})
	defer close(release)
	sink := newLedgerSink(false)
	ctx, cancel := context.WithCancelCause(t.Context())
	stopErr := errors.New("interrupted by the test")
	// 20,000 events over 20 s, in three endpoints; cancel once the target stalls.
	evs := append(genEvents(15000, 200, convTypes, time.Millisecond, 10),
		genEventsOffset(5000, 50, []events.Type{events.TypeUserPresence, events.TypeUserRoutingStatus}, 100000)...)
	for i := 15000; i < len(evs); i++ {
		evs[i].At = time.Duration(i-15000) * 4 * time.Millisecond
	}
	sortByAt(evs)
	cfg := Config{Target: srv.URL, DrainTimeout: 50 * time.Millisecond, Batch: BatchConfig{MaxEvents: 10, Linger: 5 * time.Millisecond}, Limits: Limits{Lanes: 4, MaxInFlight: 8}}
	done := make(chan struct{})
	var sum Summary
	var err error
	go func() {
		defer close(done)
		sum, err = Run(ctx, cfg, &sliceSource{evs: evs}, sink)
	}()
	waitFor(t, "the target to stall", 10*time.Second, stalled.Load)
	cancel(stopErr)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err != nil {
		t.Fatalf("err = %v, want nil on cancel", err)
	}
	if !errors.Is(sum.Cause, stopErr) {
		t.Errorf("Cause = %v, want the cancel cause", sum.Cause)
	}
	c := sink.check(t, sum)
	if c[report.Unsent] == 0 || c[report.Failed] == 0 || c[report.Accepted] == 0 {
		t.Errorf("outcomes %v: want accepted, failed (cancelled in flight) and unsent", c)
	}
	if got := api.totalAccepted(); got != c[report.Accepted] {
		t.Errorf("server accepted %d, sink %d", got, c[report.Accepted])
	}
	if sum.Generated >= uint64(len(evs)) {
		t.Errorf("generated %d: the run took everything despite the stop", sum.Generated)
	}
	srv.CloseClientConnections()
	waitFor(t, "goroutines to return to baseline", 5*time.Second, func() bool { return runtime.NumGoroutine() <= baseline+2 })
}

// sortByAt orders evs by At, stably, so each key keeps its order.
func sortByAt(evs []events.Timed) {
	slices.SortStableFunc(evs, func(a, b events.Timed) int { return cmp.Compare(a.At, b.At) })
}

func TestRunBackPressure(t *testing.T) {
	release := make(chan struct{})
	api, srv := newFakeAPI(t, func(int64, events.Endpoint, []fakeEvent, *http.Request) fakeResp {
		return fakeResp{status: 202, hold: release}
	})
	sink := newLedgerSink(false)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// One lane, one event per batch, two queued: the scheduler may hold at
	// most 1 in flight + 2 queued + 1 waiting for a queue slot.
	cfg := Config{Target: srv.URL, Unpaced: true, DrainTimeout: time.Millisecond, Batch: BatchConfig{MaxEvents: 1},
		Limits: Limits{Lanes: 1, MaxInFlight: 1, Queued: 2}}
	done := make(chan Summary)
	go func() {
		sum, _ := Run(ctx, cfg, &sliceSource{evs: genEvents(1000, 1, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
		done <- sum
	}()
	const bound = 1 + 2 + 1
	waitFor(t, "the queue to fill", 5*time.Second, func() bool { return sink.gen.Load() >= bound && api.inflight.Load() == 1 })
	got := sink.gen.Load()
	cancel()
	sum := <-done
	close(release)
	if got != bound || sum.Generated != bound {
		t.Errorf("taken %d (at the end %d) while the target stalled, want exactly %d", got, sum.Generated, bound)
	}
	sink.check(t, sum)
}

func TestRunDryRun(t *testing.T) {
	api, srv := newFakeAPI(t, nil)
	sink := newLedgerSink(true)
	evs := genEvents(450, 20, convTypes, 0, 30)
	sum, err := Run(t.Context(), Config{Target: srv.URL, DryRun: true, Unpaced: true, Batch: BatchConfig{MaxBytes: 3000}}, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	c := sink.check(t, sum)
	if c[report.Unsent] != len(evs) {
		t.Errorf("outcomes %v, want all %d unsent", c, len(evs))
	}
	if n := api.requests.Load(); n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
	for _, r := range sink.results {
		if r.Attempt != 0 || r.Kind != report.ErrNone {
			t.Errorf("dry-run result attempt %d kind %v: %s", r.Attempt, r.Kind, r.Error)
		}
	}
	// Without a target a dry run needs nothing at all.
	if _, err := Run(t.Context(), Config{DryRun: true}, &sliceSource{evs: evs}, newLedgerSink(false)); err != nil {
		t.Errorf("dry run without target: %v", err)
	}
}

func TestRunPacedRate(t *testing.T) {
	// 200 one-event requests at 400 requests/s: about 0.5 s, and the
	// intended times are exactly 2.5 ms apart whatever the clock did.
	_, srv := newFakeAPI(t, nil)
	sink := newLedgerSink(true)
	evs := genEvents(200, 200, []events.Type{events.TypeUserPresence}, 0, 5)
	cfg := Config{Target: srv.URL, Batch: BatchConfig{MaxEvents: 1}, Limits: Limits{RequestsPerSecond: 400}}
	start := time.Now()
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	sink.check(t, sum)
	if elapsed < 450*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("200 requests at 400/s took %v, want about 500ms", elapsed)
	}
	var intended []time.Time
	for _, r := range sink.results {
		intended = append(intended, r.Intended)
		if r.Sent.Before(r.Intended) {
			t.Errorf("batch %d sent %v before it was due", r.Batch, r.Intended.Sub(r.Sent))
		}
	}
	slicesSortTimes(intended)
	for i := 1; i < len(intended); i++ {
		if d := intended[i].Sub(intended[i-1]); d != 2500*time.Microsecond {
			t.Fatalf("intended gap %d = %v, want 2.5ms", i, d)
		}
	}
}

// errSource yields evs and then err.
type errSource struct {
	sliceSource
	err error
}

func (s *errSource) Next(ctx context.Context) (events.Timed, error) {
	ev, err := s.sliceSource.Next(ctx)
	if err != nil && s.err != nil {
		return ev, s.err
	}
	return ev, err
}

func TestRunBadSource(t *testing.T) {
	good := genEvents(50, 5, []events.Type{events.TypeUserPresence}, 0, 5)
	bad := func(mut func(*events.Timed)) []events.Timed {
		evs := append([]events.Timed(nil), good...)
		mut(&evs[30])
		return evs
	}
	broken := errors.New("capture.ndjson line 31: unexpected EOF")
	tests := []struct {
		name string
		src  Source
		want string
	}{
		{"unknown type", &sliceSource{evs: bad(func(e *events.Timed) { e.Type = 200 })}, `event 31 (eventId "ev-30"): unknown event type 200`},
		{"not an object", &sliceSource{evs: bad(func(e *events.Timed) { e.JSON = []byte("[]") })}, "event 31 (eventId \"ev-30\", UserPresenceEvent): JSON is not an object"},
		{"no id", &sliceSource{evs: bad(func(e *events.Timed) { e.ID = "" })}, "event 31 (UserPresenceEvent): no eventId"},
		{"source error", &errSource{sliceSource{evs: good}, broken}, "capture.ndjson line 31"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newFakeAPI(t, nil)
			sink := newLedgerSink(false)
			sum, err := Run(t.Context(), Config{Target: srv.URL, Unpaced: true}, tc.src, sink)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(sum.Cause, err) && sum.Cause != err {
				t.Errorf("Cause = %v, want the error", sum.Cause)
			}
			sink.check(t, sum)
		})
	}
}

func TestRunTokenRefusedMidRun(t *testing.T) {
	var fetches atomic.Int64
	var refuse atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":86400}`, fetches.Add(1))
	})
	f := &fakeAPI{t: t, acceptedBy: map[string]int{}, lastSeq: map[string]int{}}
	f.hook = func(n int64, _ events.Endpoint, _ []fakeEvent, _ *http.Request) fakeResp {
		if n >= 3 {
			refuse.Store(true) // the client was deleted mid-run
			return fakeResp{status: 401}
		}
		return fakeResp{status: 202}
	}
	mux.Handle("/api/", f)
	srv := newLoopback(t, mux)
	sink := newLedgerSink(false)
	cfg := Config{Target: srv.URL, Tokens: NewClientCredentials(srv.URL, "id", "secret", nil),
		Batch: BatchConfig{MaxEvents: 5}, Limits: Limits{Lanes: 1}, Unpaced: true}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(100, 3, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("err = %v, want ErrAuth from the token endpoint", err)
	}
	c := sink.check(t, sum)
	if c[report.Accepted] != 10 || c[report.Failed] == 0 {
		t.Errorf("outcomes %v, want 10 accepted, then failures", c)
	}
}

func TestRunDryRunIgnoresTheClock(t *testing.T) {
	// An hour of events checks in well under a second.
	evs := genEvents(3600, 10, convTypes, time.Second, 5)
	sink := newLedgerSink(true)
	start := time.Now()
	sum, err := Run(t.Context(), Config{DryRun: true}, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("dry run of an hour took %v", d)
	}
	c := sink.check(t, sum)
	if c[report.Unsent] != len(evs) {
		t.Errorf("outcomes %v", c)
	}
	// Batches follow the schedule: one event per second and a 100 ms
	// linger give one batch per event per lane.
	if sum.Batches != uint64(len(evs)) {
		t.Errorf("%d batches, want %d", sum.Batches, len(evs))
	}
}

func TestRetryAfterPausesOnlyItsLane(t *testing.T) {
	// Two keys, two lanes; the first request of key A is throttled for
	// 400 ms, which binds A to its lane, and key B must keep flowing on
	// the other one meanwhile.
	keyA, keyB := "key-0", "key-1"
	var throttledAt, retriedAt atomic.Int64
	var bDuringPause atomic.Int64
	_, srv := newFakeAPI(t, func(_ int64, _ events.Endpoint, evs []fakeEvent, _ *http.Request) fakeResp {
		now := time.Now().UnixNano()
		switch evs[0].ConversationID {
		case keyA:
			if throttledAt.CompareAndSwap(0, now) {
				return fakeResp{status: 429, retryAfter: "0.4"}
			}
			retriedAt.CompareAndSwap(0, now)
		case keyB:
			if throttledAt.Load() != 0 && retriedAt.Load() == 0 {
				bDuringPause.Add(1)
			}
		}
		return fakeResp{status: 202}
	})
	var evs []events.Timed
	for i := range 40 {
		key := keyA
		if i%2 == 1 {
			key = keyB
		}
		evs = append(evs, testEvent(events.TypeUserPresence, i, key, i/2+1, time.Duration(i)*10*time.Millisecond, 5))
	}
	sink := newLedgerSink(false)
	cfg := Config{Target: srv.URL, Batch: BatchConfig{MaxEvents: 1}, Limits: Limits{Lanes: 2}, Retry: RetryConfig{MaxRetryAfter: time.Second}}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: evs}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if c := sink.check(t, sum); c[report.Accepted] != len(evs) {
		t.Errorf("outcomes %v", c)
	}
	if pause := time.Duration(retriedAt.Load() - throttledAt.Load()); pause < 400*time.Millisecond {
		t.Errorf("key A retried after %v, want ≥ 400ms", pause)
	}
	if n := bDuringPause.Load(); n < 10 {
		t.Errorf("key B sent %d requests while key A's lane was paused, want ≥ 10", n)
	}
}

func TestRunCancelledDuringPreflight(t *testing.T) {
	var fetches atomic.Int64
	mux := http.NewServeMux()
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("interrupted")
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		r.ParseForm() // the server notices a gone client only once the body is read
		cancel(stop)  // the user gives up while the token is on its way
		<-r.Context().Done()
	})
	srv := newLoopback(t, mux)
	sink := newLedgerSink(false)
	sum, err := Run(ctx, Config{Target: srv.URL, Tokens: NewClientCredentials(srv.URL, "id", "secret", nil)},
		&sliceSource{evs: genEvents(5, 1, []events.Type{events.TypeUserPresence}, 0, 5)}, sink)
	if err != nil || !errors.Is(sum.Cause, stop) || sum.Generated != 0 {
		t.Errorf("got err %v, cause %v, generated %d; want a clean stop with the cause", err, sum.Cause, sum.Generated)
	}
}

func TestPreflightThenRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	if err := Preflight(t.Context(), Config{Target: closed}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Preflight(closed port) = %v, want ErrUnreachable", err)
	}
	if err := Preflight(t.Context(), Config{Target: "nope"}); !errors.Is(err, ErrConfig) {
		t.Errorf("Preflight(bad target) = %v, want ErrConfig", err)
	}
	api, srv := newFakeAPI(t, nil)
	cfg := Config{Target: srv.URL, Batch: BatchConfig{MaxEvents: 1}}
	if err := Preflight(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	// Anchored after the check: the first event is due now, not in the past.
	cfg.Start, cfg.SkipPreflight = time.Now(), true
	sink := newLedgerSink(true)
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(3, 1, []events.Type{events.TypeUserPresence}, 20*time.Millisecond, 5)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.check(t, sum)
	if api.totalAccepted() != 3 || !sum.Start.Equal(cfg.Start) {
		t.Errorf("accepted %d, Summary.Start %v want %v", api.totalAccepted(), sum.Start, cfg.Start)
	}
	if got := sink.results[0].Intended; !got.Equal(cfg.Start) {
		t.Errorf("first intended %v, want the anchor %v", got, cfg.Start)
	}
}

func TestRunOpenLoopShowsLag(t *testing.T) {
	// The target takes 20 ms per request and one request may be in flight;
	// events are due every 5 ms. Intended times must keep the schedule's
	// 5 ms spacing (open loop) while the lag grows.
	_, srv := newFakeAPI(t, func(int64, events.Endpoint, []fakeEvent, *http.Request) fakeResp {
		ch := make(chan struct{})
		time.AfterFunc(20*time.Millisecond, func() { close(ch) })
		return fakeResp{status: 202, hold: ch}
	})
	sink := newLedgerSink(true)
	cfg := Config{Target: srv.URL, Batch: BatchConfig{MaxEvents: 1}, Limits: Limits{Lanes: 1, MaxInFlight: 1}}
	sum, err := Run(t.Context(), cfg, &sliceSource{evs: genEvents(20, 1, []events.Type{events.TypeUserPresence}, 5*time.Millisecond, 5)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.check(t, sum)
	rs := sink.results
	if len(rs) != 20 {
		t.Fatalf("%d results, want 20", len(rs))
	}
	for i := 1; i < len(rs); i++ {
		if d := rs[i].Intended.Sub(rs[i-1].Intended); d != 5*time.Millisecond {
			t.Fatalf("intended gap %d = %v, want the schedule's 5ms", i, d)
		}
	}
	// 20 requests of ≥ 20 ms each against a 100 ms schedule: the last one
	// starts ≥ 19·15 ms late.
	if lag := rs[19].Sent.Sub(rs[19].Intended); lag < 250*time.Millisecond {
		t.Errorf("last request lag %v, want ≥ 250ms", lag)
	}
	if lat := rs[19].Done.Sub(rs[19].Intended); lat < rs[19].Done.Sub(rs[19].Sent)+250*time.Millisecond {
		t.Errorf("latency from intended %v does not include the lag", lat)
	}
}
