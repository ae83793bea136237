package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/internal/mock"
	"github.com/loadgen/loadgen/recorder"
	"github.com/loadgen/loadgen/report"
)

// TestTLSVerification: a self-signed target is refused by default, trusted
// with --ca-cert, and reached with --insecure only with a printed warning.
func TestTLSVerification(t *testing.T) {
	t.Setenv(envClientID, testClientID)
	t.Setenv(envClientSecret, testClientSecret)
	t.Setenv(envAccessToken, "")
	dir := t.TempDir()
	cert := filepath.Join(dir, "mock.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sout, serr := newServeOutput(), newServeOutput()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--tls", "--cert-out", cert}, sout, serr)
	}()
	url := serr.waitURL(t, done)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("serve --tls listens on %s", url)
	}
	tests := []struct {
		name  string
		flags []string
		want  int
		say   string // on stderr, or for the warning on stdout
	}{
		{"verified by default", nil, exitFailed, "certificate"},
		{"--ca-cert trusts it", []string{"--ca-cert", cert}, exitOK, ""},
		{"--insecure warns", []string{"--insecure"}, exitOK, "verification is off"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"run", "--quiet", "--target", url, "--out", out, "--duration", "2s"}, tc.flags...)
			res := runCmd(t, args...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			if tc.want == exitOK && tc.say != "" {
				if !strings.Contains(res.stdout, tc.say) {
					t.Errorf("summary lacks the warning %q:\n%s", tc.say, res.stdout)
				}
				if r := readRun(t, out); len(r.Warnings) == 0 {
					t.Error("run.json carries no warning")
				}
			}
			if tc.want != exitOK && !strings.Contains(res.stderr, tc.say) {
				t.Errorf("stderr does not mention %q:\n%s", tc.say, res.stderr)
			}
		})
	}
	cancel()
	<-done
}

// TestDryRunSendsNothing: --dry-run against a live region needs neither
// --allow-live nor credentials, builds every batch and sends none.
func TestDryRunSendsNothing(t *testing.T) {
	t.Setenv(envClientID, "")
	t.Setenv(envClientSecret, "")
	t.Setenv(envAccessToken, "")
	out := t.TempDir()
	res := runCmd(t, "run", "--dry-run", "--quiet", "--region", "eu-west-1", "--duration", "3s", "--out", out)
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	r := readRun(t, out)
	checkLedger(t, r)
	if r.Totals.Requests.Sent != 0 || r.Totals.Events.Generated == 0 || r.Totals.Events.Unsent != r.Totals.Events.Generated {
		t.Errorf("dry run: requests %+v, events %+v; want nothing sent and every event unsent", r.Totals.Requests, r.Totals.Events)
	}
}

// TestCredentialsFile: credentials can come from a file instead of the
// environment; a bad file is exit 2 naming file and line, never the secret.
func TestCredentialsFile(t *testing.T) {
	url, _ := startMock(t, mock.Config{})
	t.Setenv(envClientID, "")
	t.Setenv(envClientSecret, "")
	dir := t.TempDir()
	good := filepath.Join(dir, "creds.env")
	os.WriteFile(good, []byte("# loadgen credentials\nexport "+envClientID+"="+testClientID+"\n"+envClientSecret+"=\""+testClientSecret+"\"\n"), 0o600)
	res := runCmd(t, "run", "--quiet", "--credentials", good, "--target", url, "--out", filepath.Join(dir, "out"), "--duration", "2s")
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	bad := filepath.Join(dir, "bad.env")
	os.WriteFile(bad, []byte(envClientID+"="+testClientID+"\nGENESYSCLOUD_OAUTHCLIENT_SECRT="+testClientSecret+"\n"), 0o600)
	res = runCmd(t, "run", "--quiet", "--credentials", bad, "--target", url, "--out", filepath.Join(dir, "out2"))
	if res.code != exitUsage || !strings.Contains(res.stderr, "bad.env:2") {
		t.Errorf("bad file: exit %d, want 2 naming bad.env:2\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr+res.stdout, testClientSecret) {
		t.Error("the error quotes the secret")
	}
}

// TestFailedStartLeavesHonestFiles: a run whose target cannot be reached
// replaces the previous run.json with one that says stopReason error, and
// leaves a complete (closed) capture.
func TestFailedStartLeavesHonestFiles(t *testing.T) {
	url, _ := startMock(t, mock.Config{})
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if res := runCmd(t, "run", "--quiet", "--target", url, "--out", out, "--duration", "2s"); res.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	capture := filepath.Join(dir, "cap.ndjson.gz")
	res := runCmd(t, "run", "--quiet", "--target", closed, "--out", out, "--record", capture)
	if res.code != exitFailed {
		t.Fatalf("unreachable: exit %d, want 3\n%s", res.code, res.stderr)
	}
	r := readRun(t, out)
	if r.Run.StopReason != report.StopError || r.Totals.Events.Generated != 0 {
		t.Errorf("run.json after a failed start: stopReason %q, %+v; want error and nothing generated", r.Run.StopReason, r.Totals.Events)
	}
	rd, err := recorder.Open(capture, recorder.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if _, err := rd.Next(context.Background()); !errors.Is(err, io.EOF) || rd.Truncated() {
		t.Errorf("capture of a failed start: %v, truncated %v; want a closed, empty capture", err, rd.Truncated())
	}
}

// TestNoSecretInURLOrErrors: a password in --target is refused without
// being echoed, and a credentials line holding only a secret is not quoted.
func TestNoSecretInURLOrErrors(t *testing.T) {
	const secret = "hunter2-c2VjcmV0"
	res := runCmd(t, "run", "--quiet", "--target", "http://user:"+secret+"@127.0.0.1:1", "--out", t.TempDir())
	if res.code != exitUsage || strings.Contains(res.stdout+res.stderr, secret) {
		t.Errorf("password in --target: exit %d, output %q", res.code, res.stderr)
	}
	file := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(file, []byte(envClientID+"=x\n"+secret+"==\n"), 0o600)
	res = runCmd(t, "run", "--quiet", "--credentials", file, "--target", "http://127.0.0.1:1", "--out", t.TempDir())
	if res.code != exitUsage || strings.Contains(res.stdout+res.stderr, "hunter2") {
		t.Errorf("secret-only line: exit %d, output %q", res.code, res.stderr)
	}
}
