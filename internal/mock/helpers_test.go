package mock

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sleepRecorder replaces Server.sleep: it records the waits and returns at
// once, or fails them when abandon is set (the client gave up).
type sleepRecorder struct {
	mu      sync.Mutex
	waits   []time.Duration
	abandon bool
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	if r.abandon {
		return context.Canceled
	}
	return nil
}

type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	token string
	clock *fakeClock
	sleep *sleepRecorder
}

const (
	testClientID     = "test-client"
	testClientSecret = "test-secret-not-for-logs"
)

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := newFakeClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Clients == nil && cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = testClientID, testClientSecret
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &sleepRecorder{}
	srv.sleep = rec.sleep
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	h := &harness{t: t, srv: srv, ts: ts, clock: clock, sleep: rec}
	if len(cfg.Clients) == 0 {
		h.token = h.login(cfg.ClientID, cfg.ClientSecret)
	}
	return h
}

func (h *harness) login(id, secret string) string {
	h.t.Helper()
	status, body := h.tokenRequest(id, secret, "grant_type=client_credentials")
	if status != http.StatusOK {
		h.t.Fatalf("token: status %d: %s", status, body)
	}
	var tr events.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		h.t.Fatal(err)
	}
	return tr.AccessToken
}

func (h *harness) tokenRequest(id, secret, form string) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+TokenPath, strings.NewReader(form))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to the endpoint with the harness token.
func (h *harness) post(ep events.Endpoint, body string) response {
	h.t.Helper()
	return h.do(ep.Path(), body, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+h.token)
		r.Header.Set("Content-Type", "application/json")
	})
}

func (h *harness) do(path, body string, edit func(*http.Request)) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// batchErrors decodes a 202 answer.
func batchErrors(t *testing.T, r response) []events.EventError {
	t.Helper()
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d, want 202: %s", r.status, r.body)
	}
	var br events.BatchEventResponse
	if err := json.Unmarshal(r.body, &br); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	return br.Errors
}

func errorBody(t *testing.T, r response) events.ErrorBody {
	t.Helper()
	var eb events.ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if eb.Status != r.status || eb.Code == "" || eb.Message == "" || eb.ContextID == "" {
		t.Errorf("error body %s: want status %d, code, message and contextId", r.body, r.status)
	}
	return eb
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
