package mock

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

func TestRateLimit(t *testing.T) {
	var limits [events.NumEndpoints]int
	limits[events.Presence] = 1
	h := newHarness(t, Config{RateLimit: RateLimit{PerMinute: 3, PerEndpoint: limits}})
	presence := func(n int) string {
		return batchOf(events.TypeUserPresence, ev(events.TypeUserPresence, n, map[string]any{"eventId": testUUID(1100, n)}))
	}
	routing := func(n int) string {
		return batchOf(events.TypeUserRoutingStatus, ev(events.TypeUserRoutingStatus, n, map[string]any{"eventId": testUUID(1101, n)}))
	}
	throttled := func(r response, key string, value int64, after string) {
		t.Helper()
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429: %s", r.status, r.body)
		}
		if got := r.header.Get("Retry-After"); got != after {
			t.Errorf("Retry-After %q, want %q", got, after)
		}
		eb := errorBody(t, r)
		if eb.Code != "too.many.requests.retry.after" || eb.Limit == nil || eb.Limit.Key != key || eb.Limit.Value != value || eb.Limit.Namespace == "" {
			t.Errorf("error body %+v limit %+v, want limit %s=%d", eb, eb.Limit, key, value)
		}
	}
	batchErrors(t, h.post(events.Presence, presence(1)))
	throttled(h.post(events.Presence, presence(2)), "events.presence.rate.per.minute", 1, "60")
	batchErrors(t, h.post(events.RoutingStatus, routing(1)))
	batchErrors(t, h.post(events.RoutingStatus, routing(2)))
	h.clock.Add(20*time.Second + time.Millisecond)
	throttled(h.post(events.RoutingStatus, routing(3)), "token.rate.per.minute", 3, "40")
	// Another token has its own window.
	other := &harness{t: t, srv: h.srv, ts: h.ts, token: h.login(testClientID, testClientSecret)}
	batchErrors(t, other.post(events.RoutingStatus, routing(4)))
	h.clock.Add(40 * time.Second) // the first window is over
	batchErrors(t, h.post(events.RoutingStatus, routing(5)))
	st := h.srv.Stats()
	if p, r := st.Endpoints["presence"], st.Endpoints["routingstatus"]; p.Throttled != 1 || r.Throttled != 1 || r.Accepted != 4 || p.StatusCodes["429"] != 1 {
		t.Errorf("presence %+v routingstatus %+v", p, r)
	}
}

func TestRateLimitUnlimited(t *testing.T) {
	h := newHarness(t, Config{RateLimit: RateLimit{PerMinute: -1}})
	for i := range 400 {
		r := h.post(events.Presence, `{}`)
		if r.status != http.StatusAccepted {
			t.Fatalf("request %d: status %d", i, r.status)
		}
	}
}

// outcome is what a client saw for one request, for comparing runs.
type outcome struct {
	status int // 0: connection reset
	body   string
}

func faultRun(t *testing.T, cfg Config, requests int) ([]outcome, []time.Duration, Stats) {
	t.Helper()
	h := newHarness(t, cfg)
	var outs []outcome
	for i := range requests {
		evs := make([]any, 5)
		for k := range evs {
			evs[k] = ev(events.TypeUserPresence, k, map[string]any{"eventId": testUUID(1200+i, k)})
		}
		req, err := http.NewRequest(http.MethodPost, h.ts.URL+events.Presence.Path(), strings.NewReader(batchOf(events.TypeUserPresence, evs...)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			outs = append(outs, outcome{0, "reset"})
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b = []byte(strconv.Itoa(resp.StatusCode)) // error bodies carry a contextId
		}
		outs = append(outs, outcome{resp.StatusCode, string(b)})
	}
	return outs, h.sleep.waits, h.srv.Stats()
}

func TestFaultsDeterministic(t *testing.T) {
	cfg := Config{Seed: 42, RateLimit: RateLimit{PerMinute: -1}, Faults: Faults{
		Latency:             Latency{Kind: LatencyLognormal, A: 20 * time.Millisecond, B: 200 * time.Millisecond},
		FailRates:           []FailRate{{503, 0.15}, {500, 0.05}},
		ResetRate:           0.1,
		RejectRate:          0.1,
		RejectRetryableRate: 0.1,
	}}
	const requests = 60
	a, waitsA, st := faultRun(t, cfg, requests)
	b, waitsB, _ := faultRun(t, cfg, requests)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(waitsA, waitsB) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	cfg.Seed = 43
	if c, _, _ := faultRun(t, cfg, requests); reflect.DeepEqual(a, c) {
		t.Error("seeds 42 and 43 gave the same faults")
	}
	// The client's view and the server's counts agree exactly.
	var resets, s503, s500, ok int64
	var rejected, retryable int64
	for _, o := range a {
		switch o.status {
		case 0:
			resets++
		case 503:
			s503++
		case 500:
			s500++
		case 202:
			ok++
			rejected += int64(strings.Count(o.body, `"retryable":false`))
			retryable += int64(strings.Count(o.body, `"retryable":true`))
		}
	}
	if resets == 0 || s503 == 0 || s500 == 0 || rejected == 0 || retryable == 0 {
		t.Fatalf("seed 42 should exercise every fault: %v", a)
	}
	p := st.Endpoints["presence"]
	if st.Faults.Resets != resets || st.Faults.Errors["503"] != s503 || st.Faults.Errors["500"] != s500 ||
		p.Rejected != rejected || p.RetryableRejections != retryable || st.Faults.Rejected != rejected {
		t.Errorf("stats %+v %+v disagree with the client: resets %d, 503 %d, 500 %d, rejected %d, retryable %d",
			st.Faults, p, resets, s503, s500, rejected, retryable)
	}
	if p.Accepted != ok*5-rejected-retryable || p.FaultedEvents != (requests-ok)*5 || p.Requests != requests {
		t.Errorf("presence %+v: want %d accepted, %d faulted events", p, ok*5-rejected-retryable, (requests-ok)*5)
	}
	if len(waitsA) != requests || st.Faults.Delayed != requests {
		t.Errorf("%d latency waits, %d delayed; want %d", len(waitsA), st.Faults.Delayed, requests)
	}
}

func TestStall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		at       time.Duration
		abandon  bool
		wait     time.Duration
		accepted int64
	}{
		{"first period spared", 5 * time.Second, false, 0, 1},
		{"inside a stall", 11 * time.Second, false, time.Second, 1},
		{"after the stall", 13 * time.Second, false, 0, 1},
		{"client gives up", 21 * time.Second, true, time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Faults: Faults{Stall: Stall{Every: 10 * time.Second, For: 2 * time.Second}}})
			h.sleep.abandon = tc.abandon
			h.clock.Add(tc.at)
			r := h.post(events.Presence, readTestdata(t, "readme-presence.json"))
			st := h.srv.Stats()
			if got := st.Endpoints["presence"].Accepted; got != tc.accepted {
				t.Errorf("accepted %d, want %d", got, tc.accepted)
			}
			var want []time.Duration
			if tc.wait > 0 {
				want = []time.Duration{tc.wait}
			}
			if !reflect.DeepEqual(h.sleep.waits, want) {
				t.Errorf("waits %v, want %v", h.sleep.waits, want)
			}
			if tc.abandon && (st.Faults.StallTimeouts != 1 || st.Endpoints["presence"].Faulted != 1 || r.status != http.StatusServiceUnavailable) {
				t.Errorf("abandoned: status %d, faults %+v", r.status, st.Faults)
			}
		})
	}
}

func TestLatencyAbandoned(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{Latency: Latency{Kind: LatencyFixed, A: 30 * time.Millisecond}}})
	h.sleep.abandon = true
	h.post(events.Presence, readTestdata(t, "readme-presence.json"))
	st := h.srv.Stats()
	if p := st.Endpoints["presence"]; p.Accepted != 0 || p.Faulted != 1 || p.FaultedEvents != 1 || st.Faults.Abandoned != 1 {
		t.Errorf("presence %+v faults %+v: want the event not taken", p, st.Faults)
	}
	if !reflect.DeepEqual(h.sleep.waits, []time.Duration{30 * time.Millisecond}) {
		t.Errorf("waits %v", h.sleep.waits)
	}
}

func TestSlowBody(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{SlowBody: SlowBody{Rate: 1, Duration: 30 * time.Millisecond}}})
	r := h.post(events.Presence, readTestdata(t, "readme-presence.json"))
	if r.status != http.StatusAccepted || string(r.body) != "{}" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	// "{}" is written a byte at a time, a third of 30ms apart.
	if want := []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}; !reflect.DeepEqual(h.sleep.waits, want) {
		t.Errorf("waits %v, want %v", h.sleep.waits, want)
	}
	if st := h.srv.Stats(); st.Faults.SlowBodies != 1 || st.Endpoints["presence"].Accepted != 1 {
		t.Errorf("stats %+v", st.Faults)
	}
}

func TestLatencySample(t *testing.T) {
	ms := time.Millisecond
	// u2 = 0.25 makes the normal draw 0 (the median); u2 = 0 and
	// u1 = 1-exp(-z99²/2) make it z99 (the 99th percentile).
	u1p99 := 1 - math.Exp(-z99*z99/2)
	for _, tc := range []struct {
		name   string
		l      Latency
		u1, u2 float64
		want   time.Duration
	}{
		{"none", Latency{}, 0.5, 0.5, 0},
		{"fixed", Latency{LatencyFixed, 20 * ms, 0}, 0.9, 0.1, 20 * ms},
		{"uniform low", Latency{LatencyUniform, 5 * ms, 50 * ms}, 0, 0, 5 * ms},
		{"uniform mid", Latency{LatencyUniform, 5 * ms, 55 * ms}, 0.5, 0, 30 * ms},
		{"lognormal median", Latency{LatencyLognormal, 20 * ms, 200 * ms}, 0.7, 0.25, 20 * ms},
		{"lognormal p99", Latency{LatencyLognormal, 20 * ms, 200 * ms}, u1p99, 0, 200 * ms},
		{"lognormal capped", Latency{LatencyLognormal, 20 * ms, 200 * ms}, 1 - 1e-300, 0, 2000 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.l.sample(tc.u1, tc.u2)
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("sample = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSpecs(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		spec string
		want Latency
		ok   bool
	}{
		{"none", Latency{}, true},
		{"", Latency{}, true},
		{"fixed:20ms", Latency{LatencyFixed, 20 * ms, 0}, true},
		{"uniform:5ms,50ms", Latency{LatencyUniform, 5 * ms, 50 * ms}, true},
		{"lognormal:20ms,200ms", Latency{LatencyLognormal, 20 * ms, 200 * ms}, true},
		{"lognormal:200ms,20ms", Latency{}, false},
		{"uniform:50ms,5ms", Latency{}, false},
		{"fixed:-1s", Latency{}, false},
		{"fixed", Latency{}, false},
		{"gauss:1ms,2ms", Latency{}, false},
		{"uniform:5ms", Latency{}, false},
	} {
		got, err := ParseLatency(tc.spec)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLatency(%q) = %v, %v; want %v, ok=%v", tc.spec, got, err, tc.want, tc.ok)
		}
		if err == nil && tc.spec != "" {
			if back, _ := ParseLatency(got.String()); back != got {
				t.Errorf("round trip of %q: %v", tc.spec, back)
			}
		}
	}
	for _, tc := range []struct {
		spec   string
		status int
		rate   float64
		ok     bool
	}{
		{"503:0.01", 503, 0.01, true},
		{"500:1", 500, 1, true},
		{"404:0.1", 0, 0, false},
		{"503:1.5", 0, 0, false},
		{"503:-0.1", 0, 0, false},
		{"503:NaN", 0, 0, false},
		{"503", 0, 0, false},
	} {
		status, rate, err := ParseFailRate(tc.spec)
		if (err == nil) != tc.ok || status != tc.status || rate != tc.rate {
			t.Errorf("ParseFailRate(%q) = %d, %v, %v", tc.spec, status, rate, err)
		}
	}
	if s, err := ParseStall("30s,5s"); err != nil || s != (Stall{30 * time.Second, 5 * time.Second}) {
		t.Errorf("ParseStall = %v, %v", s, err)
	}
	for _, bad := range []string{"5s", "5s,30s", "5s,0s", "x,y"} {
		if _, err := ParseStall(bad); err == nil {
			t.Errorf("ParseStall(%q): want an error", bad)
		}
	}
	if s, err := ParseSlowBody("0.1,2s"); err != nil || s != (SlowBody{0.1, 2 * time.Second}) {
		t.Errorf("ParseSlowBody = %v, %v", s, err)
	}
	if s, err := ParseSlowBody("2s"); err != nil || s != (SlowBody{1, 2 * time.Second}) {
		t.Errorf("ParseSlowBody(2s) = %v, %v", s, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for i, cfg := range []Config{
		{Faults: Faults{FailRates: []FailRate{{503, 0.8}}, ResetRate: 0.3}},
		{Faults: Faults{FailRates: []FailRate{{404, 0.1}}}},
		{Faults: Faults{RejectRate: 0.7, RejectRetryableRate: 0.7}},
		{Faults: Faults{Stall: Stall{Every: time.Second, For: 2 * time.Second}}},
		{Faults: Faults{Latency: Latency{LatencyLognormal, 0, time.Second}}},
		{Clients: []Client{{ID: "a", Secret: "x"}, {ID: "a", Secret: "y"}}},
		{Clients: []Client{{ID: "a"}}},
		{TokenLifetime: -time.Second},
	} {
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "mock: invalid config") {
			t.Errorf("config %d: err %v, want ErrConfig", i, err)
		}
	}
}

// FuzzParseLatency checks that specs never panic and that what parses
// round-trips through String.
func FuzzParseLatency(f *testing.F) {
	for _, s := range []string{"fixed:20ms", "uniform:5ms,50ms", "lognormal:20ms,200ms", "none", "fixed:", "uniform:1h,2h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		l, err := ParseLatency(spec)
		if err != nil {
			return
		}
		back, err := ParseLatency(l.String())
		if err != nil || back != l {
			t.Fatalf("%q → %v → %q → %v, %v", spec, l, l.String(), back, err)
		}
		f := Faults{Latency: l}
		if err := f.check(); err != nil {
			t.Fatalf("parsed latency %v fails the config check: %v", l, err)
		}
		if d := l.sample(0.5, 0.3); d < 0 {
			t.Fatalf("negative sample %v", d)
		}
	})
}

func FuzzParseFailRate(f *testing.F) {
	for _, s := range []string{"503:0.01", "500:1", "504:0", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		status, rate, err := ParseFailRate(spec)
		if err != nil {
			return
		}
		back, rate2, err := ParseFailRate(fmt.Sprintf("%d:%v", status, rate))
		if err != nil || back != status || rate2 != rate || !faultStatus(status) || rate < 0 || rate > 1 {
			t.Fatalf("%q → %d, %v → %d, %v, %v", spec, status, rate, back, rate2, err)
		}
	})
}

// TestLatencyOnErrors checks that latency, being response time, delays
// refused requests too, while the other faults leave them alone.
func TestLatencyOnErrors(t *testing.T) {
	h := newHarness(t, Config{RateLimit: RateLimit{PerMinute: 1}, Faults: Faults{
		Latency: Latency{Kind: LatencyFixed, A: 7 * time.Millisecond}, FailRates: []FailRate{{503, 1}}}})
	body := readTestdata(t, "readme-presence.json")
	if r := h.post(events.Presence, body); r.status != http.StatusServiceUnavailable {
		t.Fatalf("first: status %d, want the injected 503", r.status)
	}
	if r := h.post(events.Presence, body); r.status != http.StatusTooManyRequests {
		t.Fatalf("second: status %d, want 429 (not a fault)", r.status)
	}
	if want := []time.Duration{7 * time.Millisecond, 7 * time.Millisecond}; !reflect.DeepEqual(h.sleep.waits, want) {
		t.Errorf("waits %v, want %v", h.sleep.waits, want)
	}
	if st := h.srv.Stats(); st.Faults.Delayed != 2 || st.Faults.Errors["503"] != 1 || st.Endpoints["presence"].Throttled != 1 {
		t.Errorf("faults %+v, presence %+v", st.Faults, st.Endpoints["presence"])
	}
}

// TestResetOverHTTP2 checks the fallback where a connection cannot be
// hijacked: the injected reset becomes a 502.
func TestResetOverHTTP2(t *testing.T) {
	srv, err := New(Config{ClientID: testClientID, ClientSecret: testClientSecret, Faults: Faults{ResetRate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	h := &harness{t: t, srv: srv, ts: ts}
	h.token = h.login(testClientID, testClientSecret)
	r := h.post(events.Presence, readTestdata(t, "readme-presence.json"))
	if r.status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", r.status)
	}
	if st := srv.Stats(); st.Faults.Errors["502"] != 1 || st.Faults.Resets != 0 || st.Endpoints["presence"].FaultedEvents != 1 {
		t.Errorf("faults %+v", st.Faults)
	}
}
