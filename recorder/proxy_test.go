package recorder

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

const secretToken = "s3cr3t-T0ken-never-recorded"

type seenRequest struct {
	method, path, query, auth, ctype, custom string
	body                                     []byte
}

func TestProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []seenRequest
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("X-Custom"), body})
		mu.Unlock()
		w.Header().Set("X-Upstream", "yes")
		if strings.Contains(r.URL.Path, "routingstatus") {
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"message":"slow down"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"errors":[]}`)
	}))
	t.Cleanup(upstream.Close)
	base, _ := url.Parse(upstream.URL + "/base")

	var capture bytes.Buffer
	w, err := NewWriter(&capture, Header{Created: created, Source: "proxy"})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1000, 0)
	var log bytes.Buffer
	h, err := NewProxy(base, w, ProxyOptions{Now: func() time.Time { clock = clock.Add(250 * time.Millisecond); return clock }, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	evs := sampleEvents()
	conv := events.AppendBatch(nil, events.Conversations, []events.Event{evs[2].Event, evs[3].Event})
	pres := events.AppendBatch(nil, events.Presence, []events.Event{evs[0].Event})
	rs := events.AppendBatch(nil, events.RoutingStatus, []events.Event{evs[1].Event})
	var gzBody bytes.Buffer
	zw := gzip.NewWriter(&gzBody)
	zw.Write(events.AppendBatch(nil, events.Conversations, []events.Event{evs[4].Event}))
	zw.Close()

	tests := []struct {
		name, method, path string
		body               []byte
		gzip               bool
		wantStatus         int
		wantBody           string
	}{
		{"conversations", "POST", events.Conversations.Path() + "?x=1", conv, false, 202, `{"errors":[]}`},
		{"presence", "POST", events.Presence.Path(), pres, false, 202, `{"errors":[]}`},
		{"throttled", "POST", events.RoutingStatus.Path(), rs, false, 429, `{"message":"slow down"}`},
		{"gzip body", "POST", events.Conversations.Path(), gzBody.Bytes(), true, 202, `{"errors":[]}`},
		{"not a batch", "POST", events.Presence.Path(), []byte(`{"nope":1}`), false, 202, `{"errors":[]}`},
		{"other path", "GET", "/api/v2/other", nil, false, 202, `{"errors":[]}`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+secretToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Custom", "kept")
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || string(got) != tc.wantBody || resp.Header.Get("X-Upstream") != "yes" {
				t.Fatalf("answer %d %q (X-Upstream %q), want %d %q", resp.StatusCode, got, resp.Header.Get("X-Upstream"), tc.wantStatus, tc.wantBody)
			}
			mu.Lock()
			s := seen[i]
			mu.Unlock()
			wantPath, wantQuery, _ := strings.Cut(tc.path, "?")
			if s.method != tc.method || s.path != "/base"+wantPath || s.query != wantQuery || s.auth != "Bearer "+secretToken ||
				s.ctype != "application/json" || s.custom != "kept" || !bytes.Equal(s.body, tc.body) {
				t.Fatalf("upstream saw %+v", s)
			}
		})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(capture.Bytes(), []byte(secretToken)) || bytes.Contains(log.Bytes(), []byte(secretToken)) {
		t.Fatal("the bearer token reached the capture or the log")
	}
	if !strings.Contains(log.String(), "presence batch not recorded") {
		t.Errorf("log %q does not report the unrecordable body", log.String())
	}
	r, err := NewReader(bytes.NewReader(capture.Bytes()), "proxy", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, r)
	// Arrival offsets: NewProxy read the clock once, each recorded batch once.
	want := []events.Timed{
		{At: 250 * time.Millisecond, Event: evs[2].Event},
		{At: 250 * time.Millisecond, Event: evs[3].Event},
		{At: 500 * time.Millisecond, Event: evs[0].Event},
		{At: 750 * time.Millisecond, Event: evs[1].Event},
		{At: 1000 * time.Millisecond, Event: evs[4].Event},
	}
	if len(got) != len(want) {
		t.Fatalf("recorded %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !eqTimed(got[i], want[i]) {
			t.Errorf("recorded event %d: %v %s %s, want %v %s %s", i, got[i].At, got[i].Type, got[i].ID, want[i].At, want[i].Type, want[i].ID)
		}
	}
}

func TestProxyBadUpstream(t *testing.T) {
	w, _ := NewWriter(io.Discard, Header{Created: created})
	for _, raw := range []string{"", "ftp://x", "/relative"} {
		u, _ := url.Parse(raw)
		if _, err := NewProxy(u, w, ProxyOptions{}); err == nil {
			t.Errorf("NewProxy(%q) accepted", raw)
		}
	}
}

func TestProxyUpstreamDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(dead.URL)
	dead.Close()
	var capture, log bytes.Buffer
	w, _ := NewWriter(&capture, Header{Created: created})
	h, err := NewProxy(u, w, ProxyOptions{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	body := events.AppendBatch(nil, events.Presence, []events.Event{sampleEvents()[0].Event})
	req := httptest.NewRequest("POST", events.Presence.Path(), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secretToken)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rec.Code)
	}
	if strings.Contains(log.String(), secretToken) || log.Len() == 0 {
		t.Fatalf("log = %q", log.String())
	}
	w.Close()
	if n := bytes.Count(capture.Bytes(), []byte("\n")); n != 2 {
		t.Fatalf("capture has %d lines, want header + 1 event (what the producer sent)", n)
	}
}
