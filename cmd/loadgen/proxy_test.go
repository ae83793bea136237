package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/recorder"
)

// proxyStderr is a goroutine-safe stderr that reports the listen address.
type proxyStderr struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addr  chan string
	found bool
}

var proxyListenRE = regexp.MustCompile(`listening on (http://[^,\s]+)`)

func (p *proxyStderr) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	if m := proxyListenRE.FindSubmatch(p.buf.Bytes()); m != nil && !p.found {
		p.found = true
		p.addr <- string(m[1])
	}
	return len(b), nil
}

func (p *proxyStderr) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

func TestProxyCommand(t *testing.T) {
	const token = "Bearer cmd-proxy-secret-token"
	var gotAuth []string
	var mu sync.Mutex
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"errors":[]}`)
	}))
	t.Cleanup(upstream.Close)

	capPath := filepath.Join(t.TempDir(), "cap.ndjson.gz")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &proxyStderr{addr: make(chan string, 1)}
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"proxy", "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--record", capPath}, &stdout, stderr)
	}()
	var base string
	select {
	case base = <-stderr.addr:
	case code := <-done:
		t.Fatalf("proxy exited early with %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("proxy did not report its address: %s", stderr.String())
	}

	var enc events.Encoder
	ev := enc.Encode(&events.UserRoutingStatusEvent{EventID: "3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57", EventDateTime: time.Date(2025, 3, 10, 14, 3, 52, 3e8, time.UTC),
		AgentID: "f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36", Status: "Interacting", SourceID: "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"})
	body := events.AppendBatch(nil, events.RoutingStatus, []events.Event{ev})
	req, _ := http.NewRequest("POST", base+events.RoutingStatus.Path(), bytes.NewReader(body))
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || string(answer) != `{"errors":[]}` {
		t.Fatalf("answer %d %s", resp.StatusCode, answer)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d, want 0: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("proxy did not stop after cancel")
	}
	mu.Lock()
	if len(gotAuth) != 1 || gotAuth[0] != token {
		t.Errorf("upstream saw Authorization %q", gotAuth)
	}
	mu.Unlock()

	raw, err := os.ReadFile(capPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := recorder.Open(capPath, recorder.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Next(context.Background())
	if err != nil || got.ID != ev.ID || string(got.JSON) != string(ev.JSON) || got.Type != events.TypeUserRoutingStatus || r.Header().Source != "proxy" {
		t.Fatalf("recorded %+v, %v", got, err)
	}
	if _, err := r.Next(context.Background()); err != io.EOF || r.Truncated() {
		t.Fatalf("after the event: %v (truncated %v), want a cleanly closed capture", err, r.Truncated())
	}
	if bytes.Contains(raw, []byte("cmd-proxy-secret-token")) || strings.Contains(stderr.String(), "cmd-proxy-secret-token") {
		t.Fatal("token leaked into the capture or stderr")
	}
}

func TestProxyCommandBadFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no upstream", []string{"--record", filepath.Join(dir, "a")}, "required"},
		{"no record", []string{"--upstream", "http://127.0.0.1:1"}, "required"},
		{"bad upstream", []string{"--upstream", "127.0.0.1:1", "--record", filepath.Join(dir, "b")}, "absolute"},
		{"credentials in upstream", []string{"--upstream", "http://u:p@127.0.0.1:1", "--record", filepath.Join(dir, "c")}, "credentials"},
		{"bad listen", []string{"--listen", "nope", "--upstream", "http://127.0.0.1:1", "--record", filepath.Join(dir, "d")}, "--listen"},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"record dir missing", []string{"--upstream", "http://127.0.0.1:1", "--record", filepath.Join(dir, "no", "such", "e")}, "--record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"proxy"}, tc.args...), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, stderr.String(), exitUsage, tc.want)
			}
		})
	}
}

func TestProxyCommandWarnsNonLoopback(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is on no interface, so nothing is ever bound
	// beyond loopback: the listen fails right after the warning.
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"proxy", "--listen", "192.0.2.1:0", "--upstream", "http://127.0.0.1:1", "--record", filepath.Join(t.TempDir(), "c")}, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "not loopback") || code != exitFailed {
		t.Fatalf("exit %d, stderr %q: no warning", code, stderr.String())
	}
}
