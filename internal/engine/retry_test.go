package engine

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// seeds returns the files of testdata/dir, for fuzz corpora.
func seeds(f *testing.F, dir string) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 27, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 3 ", 3 * time.Second, true},
		{"0.25", 250 * time.Millisecond, true},
		{"Wed, 21 Oct 2015 07:28:00 GMT", time.Minute, true},
		{"Wed, 21 Oct 2015 07:00:00 GMT", 0, true}, // in the past: now
		{"", 0, false},
		{"soon", 0, false},
		{"-5", 0, false},
		{"NaN", 0, false},
		{"1e300", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tc.in, now)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range seeds(f, "retry-after") {
		f.Add(string(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
		// Round trip: whole seconds written back read the same.
		if ok && d%time.Second == 0 && d < 1e9*time.Second {
			if back, ok2 := parseRetryAfter(itoa(int64(d/time.Second)), now); !ok2 || back != d {
				t.Fatalf("round trip of %v: %v, %v", d, back, ok2)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBackoff(t *testing.T) {
	base, limit := 100*time.Millisecond, 10*time.Second
	tests := []struct {
		n    int
		u    float64
		want time.Duration
	}{
		{1, 0, 0},
		{1, 0.5, 50 * time.Millisecond},
		{2, 0.5, 100 * time.Millisecond},
		{3, 0.999, 399600 * time.Microsecond},
		{8, 0.5, 5 * time.Second}, // 12.8 s capped at 10 s
		{100, 0.5, 5 * time.Second},
		{63, 0.5, 5 * time.Second}, // shift overflow is capped, not negative
	}
	for _, tc := range tests {
		if got := backoff(base, limit, tc.n, tc.u); got != tc.want {
			t.Errorf("backoff(n=%d, u=%v) = %v, want %v", tc.n, tc.u, got, tc.want)
		}
	}
	for range 1000 {
		if d := backoff(base, limit, 4, jitter()); d < 0 || d >= 800*time.Millisecond {
			t.Fatalf("jittered backoff %v outside [0, 800ms)", d)
		}
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		name         string
		share        float64
		floor, first int
		want         int
	}{
		{"share of firsts", 0.2, 0, 100, 20},
		{"floor", 0.2, 10, 10, 12},
		{"none", 0, 0, 100, 0},
		{"unlimited", -1, 0, 1, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := budget{share: tc.share, floor: int64(tc.floor)}
			for range tc.first {
				b.first()
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := 0
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 250 {
						if b.take() {
							mu.Lock()
							got++
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			if got != tc.want {
				t.Errorf("%d retries allowed, want %d", got, tc.want)
			}
		})
	}
}

func TestParseBatchResponse(t *testing.T) {
	tests := []struct {
		file    string
		want    []events.EventError
		wantErr bool
	}{
		{"empty.json", nil, false},
		{"empty-object.json", nil, false},
		{"no-errors.json", nil, false},
		{"errors.json", []events.EventError{
			{EventID: "0b6f2d4e-8a1c-4f3e-9d27-4c5a8e1b7f60", Message: "conversation not found", Retryable: true},
			{EventID: "5d3a9c1f-2e7b-4d64-8f0a-b6c4e2d1a983", Message: "invalid field queueId"},
		}, false},
		{"truncated.json", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "responses", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseBatchResponse(body)
			if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
	fast := []byte(" {}\n")
	allocs := testing.AllocsPerRun(100, func() { parseBatchResponse(fast) })
	if allocs != 0 {
		t.Errorf("fast path allocates %v times", allocs)
	}
}

func FuzzParseBatchResponse(f *testing.F) {
	for _, s := range seeds(f, "responses") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		errs, err := parseBatchResponse(body)
		if err != nil {
			return
		}
		// Round trip: what we parsed re-encodes and parses the same.
		js, _ := json.Marshal(events.BatchEventResponse{Errors: errs})
		back, err := parseBatchResponse(js)
		if err != nil || len(back) != len(errs) || (len(errs) > 0 && !reflect.DeepEqual(back, errs)) {
			t.Fatalf("round trip: %+v → %s → %+v, %v", errs, js, back, err)
		}
		_ = describeError(500, body)
	})
}

func TestDescribeError(t *testing.T) {
	body429, _ := os.ReadFile("testdata/responses/error-body-429.json")
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{429, string(body429), "HTTP 429: Rate limit exceeded the maximum. [300] requests for [60] seconds (too.many.requests.retry.after)"},
		{503, `{"code":"service.unavailable"}`, "HTTP 503: Service Unavailable (service.unavailable)"},
		{502, "<html>\n\x01bad gateway</html>", "HTTP 502 Bad Gateway: <html>??bad gateway</html>"},
		{400, "", "HTTP 400 Bad Request"},
		{500, strings.Repeat("x", 500), "HTTP 500 Internal Server Error: " + strings.Repeat("x", 120)},
	}
	for _, tc := range tests {
		if got := describeError(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("describeError(%d, %.30q) = %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
}

func TestParseTokenResponse(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "token", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		status   int
		body     []byte
		wantTok  string
		wantLife time.Duration
		wantErr  string
	}{
		{"ok", 200, read("ok.json"), "abc", 24 * time.Hour, ""},
		{"refused", 401, read("error.json"), "", 0, "invalid_client: client not found"},
		{"no token", 200, read("no-token.json"), "", 0, "no access_token"},
		{"not json", 200, []byte("<html>"), "", 0, "not a token response"},
		{"odd status", 500, []byte("oops"), "", 0, "HTTP 500 Internal Server Error"},
		{"missing lifetime", 200, []byte(`{"access_token":"x"}`), "x", time.Hour, ""},
		{"wrong type", 200, []byte(`{"access_token":"x","token_type":"mac"}`), "", 0, "token_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, life, err := parseTokenResponse(tc.status, tc.body)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrAuth mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || tok != tc.wantTok || life != tc.wantLife {
				t.Errorf("got %q, %v, %v; want %q, %v", tok, life, err, tc.wantTok, tc.wantLife)
			}
		})
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range seeds(f, "token") {
		f.Add(200, s)
		f.Add(401, s)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, life, err := parseTokenResponse(status, body)
		if err != nil {
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("error does not wrap ErrAuth: %v", err)
			}
			return
		}
		if tok == "" || life <= 0 {
			t.Fatalf("ok with token %q life %v", tok, life)
		}
		// Round trip through the wire form.
		js, _ := json.Marshal(events.TokenResponse{AccessToken: tok, TokenType: "bearer", ExpiresIn: int64(life / time.Second)})
		if tok2, life2, err := parseTokenResponse(200, js); err != nil || tok2 != tok || life2 != life {
			t.Fatalf("round trip: %q %v → %q %v %v", tok, life, tok2, life2, err)
		}
	})
}

func TestPacerSlots(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	tests := []struct {
		name   string
		limits Limits
		// requests: close offset, endpoint, events
		reqs []struct {
			at time.Duration
			ep events.Endpoint
			n  int
		}
		want []time.Duration
	}{
		{
			name:   "no limits: the close time",
			limits: Limits{},
			reqs: []struct {
				at time.Duration
				ep events.Endpoint
				n  int
			}{{0, 0, 100}, {5 * ms, 0, 100}, {5 * ms, 1, 1}},
			want: []time.Duration{0, 5 * ms, 5 * ms},
		},
		{
			name:   "global 100/s spreads a burst 10 ms apart",
			limits: Limits{RequestsPerSecond: 100},
			reqs: []struct {
				at time.Duration
				ep events.Endpoint
				n  int
			}{{0, 0, 1}, {0, 1, 1}, {0, 2, 1}, {50 * ms, 0, 1}},
			want: []time.Duration{0, 10 * ms, 20 * ms, 50 * ms},
		},
		{
			name:   "per endpoint 10/s leaves others alone",
			limits: Limits{PerEndpoint: [3]float64{10, 0, 0}},
			reqs: []struct {
				at time.Duration
				ep events.Endpoint
				n  int
			}{{0, 0, 1}, {0, 0, 1}, {0, 1, 1}, {0, 0, 1}},
			want: []time.Duration{0, 100 * ms, 0, 200 * ms},
		},
		{
			name:   "events/s counts events",
			limits: Limits{EventsPerSecond: 1000},
			reqs: []struct {
				at time.Duration
				ep events.Endpoint
				n  int
			}{{0, 0, 100}, {0, 0, 100}, {0, 0, 50}, {0, 0, 100}},
			want: []time.Duration{0, 100 * ms, 150 * ms, 250 * ms},
		},
		{
			name:   "the strictest limit wins",
			limits: Limits{RequestsPerSecond: 1000, PerEndpoint: [3]float64{0, 0, 20}},
			reqs: []struct {
				at time.Duration
				ep events.Endpoint
				n  int
			}{{0, 2, 1}, {0, 2, 1}, {0, 0, 1}},
			want: []time.Duration{0, 50 * ms, 2 * ms},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(tc.limits, 100)
			for i, r := range tc.reqs {
				got := p.slot(t0.Add(r.at), r.ep, r.n).Sub(t0)
				if math.Abs(float64(got-tc.want[i])) > float64(time.Microsecond) {
					t.Errorf("request %d: slot %v, want %v", i, got, tc.want[i])
				}
			}
		})
	}
}

func TestClientCredentialsRefresh(t *testing.T) {
	var fetches int
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		n := fetches
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(events.TokenResponse{AccessToken: "tok-" + itoa(int64(n)), TokenType: "bearer", ExpiresIn: 600})
	})
	srv := newLoopback(t, mux)
	cc := NewClientCredentials(srv.URL, "id", "secret", srv.Client())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	cc.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	advance := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }
	ctx := context.Background()
	count := func() int { mu.Lock(); defer mu.Unlock(); return fetches }

	// Concurrent first calls share one fetch.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := cc.Token(ctx); err != nil || tok != "tok-1" {
				t.Errorf("Token = %q, %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if count() != 1 {
		t.Fatalf("%d fetches for concurrent first calls, want 1", count())
	}
	// Inside the lifetime: cached.
	advance(5 * time.Minute)
	if tok, _ := cc.Token(ctx); tok != "tok-1" || count() != 1 {
		t.Fatalf("cached: %q after %d fetches", tok, count())
	}
	// Past the refresh point (a minute before expiry): still the old
	// token, while the refresh runs in the background.
	advance(4*time.Minute + time.Second)
	if tok, _ := cc.Token(ctx); tok != "tok-1" {
		t.Fatalf("during refresh got %q, want the still-valid tok-1", tok)
	}
	waitFor(t, "the background refresh", 5*time.Second, func() bool {
		tok, _ := cc.Token(ctx)
		return tok == "tok-2"
	})
	// Invalidate forces a fetch; invalidating a stale token does nothing.
	cc.Invalidate("tok-1")
	if tok, _ := cc.Token(ctx); tok != "tok-2" {
		t.Fatalf("stale invalidate replaced the token: %q", tok)
	}
	cc.Invalidate("tok-2")
	if tok, _ := cc.Token(ctx); tok != "tok-3" || count() != 3 {
		t.Fatalf("after invalidate: %q, %d fetches", tok, count())
	}
}
