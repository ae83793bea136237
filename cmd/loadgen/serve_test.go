package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/mock"
)

// serveOutput is a concurrency-safe writer that signals each write, so a
// test can wait for a line without sleeping.
type serveOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newServeOutput() *serveOutput { return &serveOutput{changed: make(chan struct{}, 1)} }

func (o *serveOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return o.buf.Write(b)
}

func (o *serveOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

var serveListenRE = regexp.MustCompile(`listening on (https?://\S+)`)

// waitURL waits for the listening line, failing after a deadline.
func (o *serveOutput) waitURL(t *testing.T, done <-chan int) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if m := serveListenRE.FindStringSubmatch(o.String()); m != nil {
			return m[1]
		}
		select {
		case <-o.changed:
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, o.String())
		case <-deadline:
			t.Fatalf("no listening line: %s", o.String())
		}
	}
}

type serveRun struct {
	cancel         context.CancelFunc
	done           chan int
	stdout, stderr *serveOutput
	url            string
}

func startServe(t *testing.T, args ...string) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &serveRun{cancel: cancel, done: make(chan int, 1), stdout: newServeOutput(), stderr: newServeOutput()}
	go func() {
		r.done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), r.stdout, r.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	r.url = r.stderr.waitURL(t, r.done)
	return r
}

// stop cancels the command and returns its exit code and final stats.
func (r *serveRun) stop(t *testing.T) (int, mock.Stats) {
	t.Helper()
	r.cancel()
	var code int
	select {
	case code = <-r.done:
		r.done <- code // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	var st mock.Stats
	if err := json.Unmarshal([]byte(r.stdout.String()), &st); err != nil {
		t.Fatalf("stdout is not stats JSON: %v\n%s", err, r.stdout.String())
	}
	return code, st
}

func serveToken(t *testing.T, c *http.Client, base, id, secret string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: status %d, err %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

const servePresenceBody = `{"userPresenceEvents":[{"eventId":"9a2c7e1d-4b6f-4a83-b5d0-e1f7c3a9b246",
"eventDateTime":"2025-03-10T13:58:00.000Z","userId":"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36",
"sourceId":"e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"}]}`

func servePost(t *testing.T, c *http.Client, base, token, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeCommand(t *testing.T) {
	const id, secret = "env-client", "env-secret-value"
	t.Setenv("GENESYSCLOUD_OAUTHCLIENT_ID", id)
	t.Setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", secret)
	r := startServe(t, "--seed", "7", "--rate-limit", "2")
	c := &http.Client{Timeout: 10 * time.Second}
	tok := serveToken(t, c, r.url, id, secret)
	if status, body := servePost(t, c, r.url, tok, "/api/v2/events/users/presence", servePresenceBody); status != http.StatusAccepted || body != "{}" {
		t.Fatalf("post: %d %s", status, body)
	}
	if status, body := servePost(t, c, r.url, tok, "/api/v2/events/users/presence", "{"); status != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d %s", status, body)
	}
	// The third request in the minute exceeds --rate-limit 2.
	if status, body := servePost(t, c, r.url, tok, "/api/v2/events/users/presence", servePresenceBody); status != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %d %s", status, body)
	}
	code, st := r.stop(t)
	if code != exitOK {
		t.Errorf("exit %d, want 0; stderr: %s", code, r.stderr.String())
	}
	p := st.Endpoints["presence"]
	if p.Requests != 3 || p.Accepted != 1 || p.Throttled != 1 || st.TokensIssued != 1 {
		t.Errorf("stats %+v tokens %d, want 3 requests, 1 accepted, 1 throttled, 1 token", p, st.TokensIssued)
	}
	if out := r.stderr.String() + r.stdout.String(); strings.Contains(out, secret) || strings.Contains(out, tok) {
		t.Error("a secret or token leaked into the output")
	}
}

func TestServeGeneratedClient(t *testing.T) {
	t.Setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "")
	t.Setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "")
	r := startServe(t)
	m := regexp.MustCompile(`generated client id=(\S+) secret=(\S+)`).FindStringSubmatch(r.stderr.String())
	if m == nil {
		t.Fatalf("no generated client on stderr: %s", r.stderr.String())
	}
	c := &http.Client{Timeout: 10 * time.Second}
	tok := serveToken(t, c, r.url, m[1], m[2])
	if status, body := servePost(t, c, r.url, tok, "/api/v2/events/users/presence", servePresenceBody); status != http.StatusAccepted {
		t.Fatalf("post: %d %s", status, body)
	}
	if code, st := r.stop(t); code != exitOK || st.Endpoints["presence"].Accepted != 1 {
		t.Errorf("exit %d, presence %+v", code, st.Endpoints["presence"])
	}
}

func TestServeTLS(t *testing.T) {
	t.Setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "tls-client")
	t.Setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "tls-secret")
	certFile := filepath.Join(t.TempDir(), "mock.pem")
	r := startServe(t, "--tls", "--cert-out", certFile)
	if !strings.HasPrefix(r.url, "https://127.0.0.1:") {
		t.Fatalf("url %s, want https on loopback", r.url)
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("cert-out is not a PEM certificate")
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	tok := serveToken(t, c, r.url, "tls-client", "tls-secret")
	if status, body := servePost(t, c, r.url, tok, "/api/v2/events/users/presence", servePresenceBody); status != http.StatusAccepted {
		t.Fatalf("post: %d %s", status, body)
	}
	if code, st := r.stop(t); code != exitOK || st.Endpoints["presence"].Accepted != 1 {
		t.Errorf("exit %d, presence %+v", code, st.Endpoints["presence"])
	}
}

func TestServeBadUsage(t *testing.T) {
	dir := t.TempDir()
	badClients := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(badClients, []byte("clients:\n  - id: a\n    sekret: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"bad latency", []string{"--latency", "gauss:1ms"}, exitUsage, "--latency"},
		{"bad fail", []string{"--fail", "404:0.1"}, exitUsage, "--fail"},
		{"rates over 1", []string{"--fail", "503:0.7", "--reset-rate", "0.5"}, exitUsage, "sum"},
		{"bad reject rate", []string{"--reject-rate", "2"}, exitUsage, "--reject-rate"},
		{"bad stall", []string{"--stall", "5s"}, exitUsage, "--stall"},
		{"bad endpoint limit", []string{"--rate-limit-endpoint", "chat=5"}, exitUsage, "--rate-limit-endpoint"},
		{"missing clients file", []string{"--clients", filepath.Join(dir, "nope.yaml")}, exitUsage, "nope.yaml"},
		{"bad clients file", []string{"--clients", badClients}, exitUsage, "clients.yaml:3"},
		{"cert-out without tls", []string{"--cert-out", "x.pem"}, exitUsage, "--tls"},
		{"unknown flag", []string{"--bogus"}, exitUsage, "bogus"},
		{"listen failure", []string{"--addr", "127.0.0.1:99999"}, exitFailed, "listen"},
		// 192.0.2.1 (TEST-NET-1) is not a local address: the warning comes
		// before the listen fails, and nothing is bound.
		{"non-loopback warning", []string{"--addr", "192.0.2.1:0"}, exitFailed, "not a loopback address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"serve"}, tc.args...), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestServeLoopbackCheck(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"localhost", true}, {"", false}, {"0.0.0.0", false}, {"10.1.2.3", false},
	} {
		if got := serveLoopback(tc.host); got != tc.want {
			t.Errorf("serveLoopback(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
