package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/internal/mock"
	"github.com/loadgen/loadgen/report"
)

const (
	testClientID     = "e2e-client"
	testClientSecret = "e2e-secret-4f1c9a77d2b84e0c"
)

// startMock serves a mock Events API on loopback with the test client and
// points the credential variables at it.
func startMock(t *testing.T, cfg mock.Config) (string, *mock.Server) {
	t.Helper()
	if cfg.Clients == nil {
		cfg.Clients = []mock.Client{{ID: testClientID, Secret: testClientSecret, Permissions: mock.AllPermissions()}}
	}
	srv, err := mock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Setenv(envClientID, testClientID)
	t.Setenv(envClientSecret, testClientSecret)
	t.Setenv(envAccessToken, "")
	t.Setenv(envRegion, "")
	return hs.URL, srv
}

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func readRun(t *testing.T, dir string) *report.Run {
	t.Helper()
	r, err := report.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkLedger asserts the invariant overall, per endpoint and per type.
func checkLedger(t *testing.T, r *report.Run) {
	t.Helper()
	if !r.Totals.Events.Balanced() {
		t.Errorf("totals: ledger does not balance: %+v", r.Totals.Events)
	}
	for name, ep := range r.Endpoints {
		if !ep.Events.Balanced() {
			t.Errorf("%s: ledger does not balance: %+v", name, ep.Events)
		}
	}
	for name, l := range r.EventTypes {
		if !l.Balanced() {
			t.Errorf("%s: ledger does not balance: %+v", name, *l)
		}
	}
}

// checkAgreesWithMock asserts the client's accepted counts equal the mock's,
// per endpoint and per event type.
func checkAgreesWithMock(t *testing.T, r *report.Run, st mock.Stats) {
	t.Helper()
	for _, ep := range events.Endpoints() {
		got, want := r.Endpoints[ep.String()].Events.Accepted, st.Endpoints[ep.String()].Accepted
		if got != want {
			t.Errorf("%s: client accepted %d, mock accepted %d", ep, got, want)
		}
	}
	for _, typ := range events.Types() {
		var got int64
		if l := r.EventTypes[typ.String()]; l != nil {
			got = l.Accepted
		}
		if want := st.EventTypes[typ.String()].Accepted; got != want {
			t.Errorf("%s: client accepted %d, mock accepted %d", typ, got, want)
		}
	}
}

func TestRunEndToEnd(t *testing.T) {
	url, srv := startMock(t, mock.Config{StrictSequence: true})
	out := t.TempDir()
	res := runCmd(t, "run", "--quiet", "--target", url, "--out", out, "--duration", "6s")
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}
	r := readRun(t, out)
	checkLedger(t, r)
	for _, ep := range events.Endpoints() {
		if r.Endpoints[ep.String()].Events.Accepted == 0 {
			t.Errorf("%s: no accepted events", ep)
		}
	}
	if r.Totals.Events.Generated == 0 || r.Totals.Events.Accepted != r.Totals.Events.Generated {
		t.Errorf("got %+v, want every generated event accepted", r.Totals.Events)
	}
	st := srv.Stats()
	checkAgreesWithMock(t, r, st)
	if st.SequenceViolations.Total != 0 {
		t.Errorf("mock found %d sequence violations: %+v", st.SequenceViolations.Total, st.SequenceViolations)
	}
	if r.Run.StopReason != report.StopCompleted {
		t.Errorf("stopReason %q, want completed", r.Run.StopReason)
	}
	if !strings.Contains(res.stdout, "conversations") || !strings.Contains(res.stdout, "routingstatus") {
		t.Errorf("summary on stdout lacks the endpoint table:\n%s", res.stdout)
	}
	for _, f := range []string{"report.html", "failures.ndjson"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunInvalidEventReachesFailures makes the simulation break events on
// purpose and finds each in failures.ndjson with the mock's reason.
func TestRunInvalidEventReachesFailures(t *testing.T) {
	url, srv := startMock(t, mock.Config{})
	base, err := os.ReadFile("../../scenarios/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	scn := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(scn, append(base, "\nfaults: {invalidEvents: 3}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res := runCmd(t, "run", scn, "--quiet", "--target", url, "--out", out, "--duration", "4s")
	// The scenario's threshold events.rejected == 0 breaks: exit 1.
	if res.code != exitThreshold {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", res.code, res.stderr)
	}
	r := readRun(t, out)
	checkLedger(t, r)
	checkAgreesWithMock(t, r, srv.Stats())
	if r.Totals.Events.Rejected != 3 {
		t.Fatalf("rejected %d, want 3", r.Totals.Events.Rejected)
	}
	var mockRejected int64
	for _, e := range srv.Stats().Endpoints {
		mockRejected += e.Rejected
	}
	if mockRejected != 3 {
		t.Errorf("mock rejected %d, want 3", mockRejected)
	}
	f, err := os.Open(filepath.Join(out, "failures.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("failures.ndjson line %d: %v", lines+1, err)
		}
		lines++
		msg, _ := line["message"].(string)
		id, _ := line["eventId"].(string)
		if id == "" || msg == "" || !strings.Contains(msg, "required") {
			t.Errorf("failure line %d: want the eventId and the mock's reason, got %s", lines, sc.Text())
		}
	}
	if lines != 3 {
		t.Errorf("failures.ndjson has %d lines, want 3", lines)
	}
}

func TestRunExitCodes(t *testing.T) {
	url, _ := startMock(t, mock.Config{})
	// A port that was just closed: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	badScn := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badScn, []byte("name: x\nduration: 5s\nagentz: 3\n"), 0o644)

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    int
		message string
	}{
		{"missing scenario file", nil, []string{"run", filepath.Join(dir, "nope.yaml")}, exitUsage, "nope.yaml"},
		{"unknown key names line and column", nil, []string{"run", badScn}, exitUsage, "bad.yaml:3:1"},
		{"bad flag", nil, []string{"run", "--no-such-flag"}, exitUsage, "no-such-flag"},
		{"bad threshold", nil, []string{"run", "--target", url, "--threshold", "conversations.p99 < lots"}, exitUsage, "--threshold"},
		{"unknown metric", nil, []string{"run", "--target", url, "--threshold", "conversations.zorp < 5ms"}, exitUsage, "zorp"},
		{"unreachable target", nil, []string{"run", "--target", closed, "--duration", "2s"}, exitFailed, "unreachable"},
		{"refused credentials", map[string]string{envClientSecret: "wrong"}, []string{"run", "--target", url, "--duration", "2s"}, exitFailed, "auth"},
		{"live org without --allow-live", nil, []string{"run", "--region", "eu-west-1"}, exitUsage, "--allow-live"},
		{"no credentials", map[string]string{envClientID: "", envClientSecret: ""}, []string{"run", "--target", url}, exitUsage, envClientID},
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"bad shard", nil, []string{"run", "--shard", "3/2"}, exitUsage, "--shard"},
		{"bad replay speed", nil, []string{"replay", "--speed", "-1", "x.ndjson"}, exitUsage, "--speed"},
		{"missing capture", nil, []string{"replay", filepath.Join(dir, "none.ndjson")}, exitUsage, "none.ndjson"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append(tc.args, "--quiet", "--out", t.TempDir())
			if tc.args[0] == "frobnicate" {
				args = tc.args
			}
			res := runCmd(t, args...)
			if res.code != tc.want {
				t.Errorf("exit %d, want %d\nstderr:\n%s", res.code, tc.want, res.stderr)
			}
			if !strings.Contains(strings.ToLower(res.stderr), strings.ToLower(tc.message)) {
				t.Errorf("stderr does not mention %q:\n%s", tc.message, res.stderr)
			}
			if strings.Contains(res.stderr, "panic") || strings.Contains(res.stderr, "goroutine ") {
				t.Errorf("stderr shows a panic:\n%s", res.stderr)
			}
		})
	}
}

// TestSecretsNeverWritten greps every output of full runs (stdout, stderr,
// every file in --out, the capture) for the client secret and the token.
func TestSecretsNeverWritten(t *testing.T) {
	url, _ := startMock(t, mock.Config{})
	// A token of our own, to run once with GENESYSCLOUD_ACCESS_TOKEN.
	req, _ := http.NewRequest("POST", url+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth(testClientID, testClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok events.TokenResponse
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		t.Fatal("mock issued no token")
	}

	for _, mode := range []string{"client-credentials", "access-token"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "access-token" {
				t.Setenv(envClientID, "")
				t.Setenv(envClientSecret, "")
				t.Setenv(envAccessToken, tok.AccessToken)
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			capture := filepath.Join(dir, "capture.ndjson")
			res := runCmd(t, "run", "--quiet", "--target", url, "--out", out, "--duration", "3s",
				"--record", capture, "--junit", filepath.Join(dir, "junit.xml"))
			if res.code != exitOK {
				t.Fatalf("exit %d\nstderr:\n%s", res.code, res.stderr)
			}
			blobs := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
			filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					b, _ := os.ReadFile(path)
					blobs[path] = string(b)
				}
				return nil
			})
			if len(blobs) < 6 {
				t.Fatalf("expected run.json, report.html, failures.ndjson, junit.xml and the capture; got %d outputs", len(blobs)-2)
			}
			for name, b := range blobs {
				for _, secret := range []string{testClientSecret, tok.AccessToken} {
					if strings.Contains(b, secret) {
						t.Errorf("%s contains a secret", name)
					}
				}
			}
		})
	}
}

// TestAllEventsScenario: scenarios/all-events.yaml against a strict mock
// sends all 34 event types, every one accepted, with no life-cycle violation.
func TestAllEventsScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 20 s")
	}
	url, srv := startMock(t, mock.Config{StrictSequence: true})
	out := t.TempDir()
	res := runCmd(t, "run", "../../scenarios/all-events.yaml", "--quiet", "--target", url, "--out", out)
	if res.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	r := readRun(t, out)
	checkLedger(t, r)
	st := srv.Stats()
	checkAgreesWithMock(t, r, st)
	for _, typ := range events.Types() {
		l := r.EventTypes[typ.String()]
		if l == nil || l.Accepted == 0 || l.Accepted != l.Generated {
			t.Errorf("%s: %+v, want some generated and all accepted", typ, l)
		}
	}
	if st.SequenceViolations.Total != 0 {
		t.Errorf("sequence violations: %+v", st.SequenceViolations)
	}
}
