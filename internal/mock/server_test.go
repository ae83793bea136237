package mock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

func TestReadmeExamplesAccepted(t *testing.T) {
	h := newHarness(t, Config{StrictSequence: true})
	for _, tc := range []struct {
		file string
		ep   events.Endpoint
		n    int64
	}{
		{"readme-conversations.json", events.Conversations, 2},
		{"readme-presence.json", events.Presence, 1},
		{"readme-routingstatus.json", events.RoutingStatus, 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := h.post(tc.ep, readTestdata(t, tc.file))
			if errs := batchErrors(t, r); len(errs) != 0 {
				t.Fatalf("errors: %+v", errs)
			}
			if string(r.body) != "{}" {
				t.Errorf("body %s, want {}", r.body)
			}
			if got := h.srv.Stats().Endpoints[tc.ep.String()].Accepted; got != tc.n {
				t.Errorf("accepted %d, want %d", got, tc.n)
			}
		})
	}
	if v := h.srv.Stats().SequenceViolations; v != (Violations{}) {
		t.Errorf("violations %+v, want none", v)
	}
}

func TestWholeRequestErrors(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now, TokenLifetime: time.Hour, Clients: []Client{
		{ID: "all", Secret: "s1", Permissions: AllPermissions()},
		{ID: "presence-only", Secret: "s2", Permissions: []string{"presence:*:inject"}},
		{ID: "short", Secret: "s3", Permissions: []string{"*"}, TokenLifetime: time.Minute},
	}})
	h.clock = clock
	good := h.login("all", "s1")
	presenceOnly := h.login("presence-only", "s2")
	expired := h.login("short", "s3")
	clock.Add(2 * time.Minute)
	presence := readTestdata(t, "readme-presence.json")
	tooMany := make([]any, 101)
	for i := range tooMany {
		tooMany[i] = sampleEvent(events.TypeUserPresence, i)
	}
	big := `{"userPresenceEvents":[{"message":"` + strings.Repeat("x", events.MaxRequestBytes) + `"}]}`
	auth := func(tok, ct string) func(*http.Request) {
		return func(r *http.Request) {
			if tok != "" {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			if ct != "" {
				r.Header.Set("Content-Type", ct)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		path   string
		body   string
		edit   func(*http.Request)
		status int
		code   string
		detail string // a Details[0].ErrorCode, when set
	}{
		{"no token", events.Presence.Path(), presence, auth("", "application/json"), 401, "authentication.required", ""},
		{"basic instead of bearer", events.Presence.Path(), presence, func(r *http.Request) {
			r.SetBasicAuth("all", "s1")
			r.Header.Set("Content-Type", "application/json")
		}, 401, "authentication.required", ""},
		{"unknown token", events.Presence.Path(), presence, auth("not-a-token", "application/json"), 401, "bad.credentials", ""},
		{"expired token", events.Presence.Path(), presence, auth(expired, "application/json"), 401, "credentials.expired", ""},
		{"missing permission", events.Conversations.Path(), readTestdata(t, "readme-conversations.json"), auth(presenceOnly, "application/json"), 403, "missing.any.permissions", "missing.permission"},
		{"wrong content type", events.Presence.Path(), presence, auth(good, "text/plain"), 415, "unsupported.media.type", ""},
		{"no content type", events.Presence.Path(), presence, auth(good, ""), 415, "unsupported.media.type", ""},
		{"bad JSON", events.Presence.Path(), `{"userPresenceEvents":[`, auth(good, "application/json"), 400, "bad.request", "invalid.json"},
		{"wrong endpoint's body", events.Presence.Path(), readTestdata(t, "readme-routingstatus.json"), auth(good, "application/json"), 400, "bad.request", "invalid.body"},
		{"101 events", events.Presence.Path(), batchOf(events.TypeUserPresence, tooMany...), auth(good, "application/json"), 400, "bad.request", "too.many.events"},
		{"too large", events.Presence.Path(), big, auth(good, "application/json"), 413, "request.entity.too.large", "request.bytes.max"},
		{"too large, chunked", events.Presence.Path(), big, func(r *http.Request) {
			auth(good, "application/json")(r)
			r.ContentLength = -1 // no Content-Length: the limit must hold while reading
		}, 413, "request.entity.too.large", "request.bytes.max"},
		{"unknown path", "/api/v2/events/chats", presence, auth(good, "application/json"), 404, "not.found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.path, tc.body, tc.edit)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			eb := errorBody(t, r)
			if eb.Code != tc.code {
				t.Errorf("code %q, want %q", eb.Code, tc.code)
			}
			if tc.detail != "" && (len(eb.Details) == 0 || eb.Details[0].ErrorCode != tc.detail) {
				t.Errorf("details %+v, want errorCode %q", eb.Details, tc.detail)
			}
			if r.header.Get("ININ-Correlation-Id") != eb.ContextID {
				t.Errorf("ININ-Correlation-Id %q, want the contextId %q", r.header.Get("ININ-Correlation-Id"), eb.ContextID)
			}
		})
	}
	st := h.srv.Stats()
	if p := st.Endpoints["presence"]; p.Accepted != 0 || p.Requests != 11 || p.StatusCodes["401"] != 4 || p.StatusCodes["413"] != 2 {
		t.Errorf("presence stats %+v", p)
	}
	r := h.do(events.Presence.Path(), presence, func(r *http.Request) {
		r.Method = http.MethodGet
		auth(good, "")(r)
	})
	if r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", r.status)
	}
}

func TestTokenEndpoint(t *testing.T) {
	h := newHarness(t, Config{TokenLifetime: 2 * time.Hour, Clients: []Client{
		{ID: "a", Secret: "secret-a", Permissions: AllPermissions()},
		{ID: "b", Secret: "secret-b", Permissions: AllPermissions(), TokenLifetime: 10 * time.Minute},
	}})
	for _, tc := range []struct {
		name, id, secret, form string
		status                 int
		code                   string
		expiresIn              int64
	}{
		{"ok", "a", "secret-a", "grant_type=client_credentials", 200, "", 7200},
		{"client lifetime", "b", "secret-b", "grant_type=client_credentials", 200, "", 600},
		{"wrong secret", "a", "secret-b", "grant_type=client_credentials", 401, "invalid_client", 0},
		{"unknown client", "zz", "secret-a", "grant_type=client_credentials", 401, "invalid_client", 0},
		{"no basic auth", "", "", "grant_type=client_credentials", 401, "invalid_client", 0},
		{"no grant", "a", "secret-a", "", 400, "invalid_request", 0},
		{"password grant", "a", "secret-a", "grant_type=password&username=x", 400, "unsupported_grant_type", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.tokenRequest(tc.id, tc.secret, tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if strings.Contains(string(body), "secret-") {
				t.Errorf("answer echoes a secret: %s", body)
			}
			if tc.status != 200 {
				var te events.TokenError
				if err := json.Unmarshal(body, &te); err != nil || te.Error != tc.code {
					t.Errorf("error %+v (%v), want %q", te, err, tc.code)
				}
				return
			}
			var tr events.TokenResponse
			if err := json.Unmarshal(body, &tr); err != nil {
				t.Fatal(err)
			}
			if tr.TokenType != "bearer" || tr.ExpiresIn != tc.expiresIn || len(tr.AccessToken) < 32 {
				t.Errorf("token %+v, want bearer expiring in %d", tr, tc.expiresIn)
			}
		})
	}
	r := h.do(TokenPath, "", func(r *http.Request) {
		r.Header.Set("Content-Type", "application/json")
		r.SetBasicAuth("a", "secret-a")
	})
	if r.status != 400 {
		t.Errorf("JSON token request: status %d, want 400", r.status)
	}
	if st := h.srv.Stats(); st.TokensIssued != 2 || st.TokensRefused != 6 {
		t.Errorf("tokens issued %d refused %d, want 2 and 6", st.TokensIssued, st.TokensRefused)
	}
}

// TestStatsEndpoint checks GET /mock/stats against Stats, its JSON keys
// against DESIGN.md's vocabulary, and POST /mock/reset.
func TestStatsEndpoint(t *testing.T) {
	h := newHarness(t, Config{})
	batchErrors(t, h.post(events.Conversations, readTestdata(t, "readme-conversations.json")))
	get := func() (map[string]any, Stats) {
		t.Helper()
		resp, err := h.ts.Client().Get(h.ts.URL + StatsPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var generic map[string]any
		var st Stats
		if err := json.Unmarshal(b, &generic); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		return generic, st
	}
	generic, st := get()
	if !reflect.DeepEqual(st, h.srv.Stats()) {
		t.Errorf("GET /mock/stats %+v\ndiffers from Stats() %+v", st, h.srv.Stats())
	}
	for _, path := range []string{
		"endpoints.conversations.requests", "endpoints.conversations.accepted", "endpoints.conversations.rejected",
		"endpoints.conversations.throttled", "endpoints.presence.accepted", "endpoints.routingstatus.accepted",
		"eventTypes.ExternalEstablishedEvent.accepted", "eventTypes.RoutingEstablishedEvent.rejected",
		"sequenceViolations.total", "sequenceViolations.unknownLeg", "sequenceViolations.afterEnd",
		"sequenceViolations.duplicateLeg", "sequenceViolations.unknownCommand", "sequenceViolations.unknownReference",
		"sequenceViolations.duplicateEventId", "faults.resets", "tokensIssued",
	} {
		var cur any = generic
		for _, k := range strings.Split(path, ".") {
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		if _, ok := cur.(float64); !ok {
			t.Errorf("stats JSON has no number at %s", path)
		}
	}
	if st.EventTypes["ExternalEstablishedEvent"].Accepted != 1 || st.Endpoints["conversations"].StatusCodes["202"] != 1 {
		t.Errorf("stats %+v", st)
	}
	r := h.do(ResetPath, "", nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("reset: status %d", r.status)
	}
	if _, st := get(); st.Endpoints["conversations"].Accepted != 0 || st.TokensIssued != 0 {
		t.Errorf("after reset: %+v", st)
	}
	// Tokens survive a reset, and the eventIds are forgotten.
	batchErrors(t, h.post(events.Conversations, readTestdata(t, "readme-conversations.json")))
	if c := h.srv.Stats().Endpoints["conversations"]; c.Accepted != 2 || c.Duplicates != 0 {
		t.Errorf("after reset, resend: %+v", c)
	}
}

// BenchmarkServeHTTP measures one whole batch request through the handler
// (auth, limits, validation, life-cycle state, answer), without a network.
func BenchmarkServeHTTP(b *testing.B) {
	srv, err := New(Config{ClientID: "bench", ClientSecret: "bench", RateLimit: RateLimit{PerMinute: -1}})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	form := "grant_type=client_credentials"
	req := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bench", "bench")
	srv.ServeHTTP(rec, req)
	var tr events.TokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
		b.Fatal(err)
	}
	// Distinct bodies, so every event is new and goes through the
	// life-cycle checks; a Reset every len(bodies) requests (amortized)
	// keeps the ids new.
	bodies := make([][]byte, 256)
	for i := range bodies {
		bodies[i] = benchBody(i)
	}
	rd := bytes.NewReader(nil)
	req = httptest.NewRequest(http.MethodPost, events.Conversations.Path(), rd)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(bodies) {
			srv.Reset()
			i = 0
		}
		rd.Reset(bodies[i])
		i++
		w.status = 0
		srv.ServeHTTP(w, req)
		if w.status != http.StatusAccepted {
			b.Fatalf("status %d", w.status)
		}
	}
	if st := srv.Stats().Endpoints["conversations"]; st.Duplicates != 0 || st.Rejected != 0 {
		b.Fatalf("stats %+v: want every event new and valid", st)
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "events/s")
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

func TestGeneratedClient(t *testing.T) {
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	cs := srv.Clients()
	if len(cs) != 1 || len(cs[0].ID) != 36 || len(cs[0].Secret) < 32 || len(cs[0].Permissions) != 3 {
		t.Fatalf("clients %d: want one generated client with all permissions", len(cs))
	}
	cs[0].Permissions[0] = "changed" // a copy: the server's list stays
	if srv.Clients()[0].Permissions[0] == "changed" {
		t.Error("Clients exposes the server's slice")
	}
	other, _ := New(Config{})
	if other.Clients()[0].Secret == cs[0].Secret {
		t.Error("two generated secrets are equal")
	}
	h := &harness{t: t, srv: srv, ts: httptest.NewServer(srv)}
	t.Cleanup(h.ts.Close)
	h.token = h.login(cs[0].ID, cs[0].Secret)
	if errs := batchErrors(t, h.post(events.RoutingStatus, readTestdata(t, "readme-routingstatus.json"))); len(errs) != 0 {
		t.Errorf("errors %+v", errs)
	}
}

func TestSleepCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := sleepCtx(ctx, 0); err != nil {
		t.Errorf("zero wait: %v", err)
	}
	if err := sleepCtx(ctx, time.Nanosecond); err != nil {
		t.Errorf("short wait: %v", err)
	}
	cancel()
	// A cancelled context ends even an hour's wait at once.
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}
