package mock

import (
	"encoding/json"
	"net/http"
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
