package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/mock"
	"github.com/loadgen/loadgen/recorder"
	"github.com/loadgen/loadgen/report"
)

// buildBinary compiles loadgen once per test into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "loadgen")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// TestSignalDrainsAndWritesEverything runs the real binary, interrupts it
// mid-run and checks run.json, report.html and the capture are complete.
func TestSignalDrainsAndWritesEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	url, srv := startMock(t, mock.Config{})
	bin := buildBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	capture := filepath.Join(dir, "capture.ndjson.gz")
	stderr := newServeOutput() // safe to read while the process writes
	cmd := exec.Command(bin, "run", "--quiet", "--target", url, "--out", out, "--record", capture, "--duration", "60s")
	cmd.Stderr = stderr
	cmd.Stdout = io.Discard
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Interrupt once the target has taken some events.
	waitFor(t, 30*time.Second, "the first accepted events", func() bool {
		var acc int64
		for _, e := range srv.Stats().Endpoints {
			acc += e.Accepted
		}
		return acc > 20
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("loadgen did not stop within 30s of SIGINT\nstderr:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("exit %d after SIGINT, want 0 (thresholds held)\nstderr:\n%s", code, stderr.String())
	}

	r, err := report.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatalf("run.json: %v\nstderr:\n%s", err, stderr.String())
	}
	if r.Run.StopReason != report.StopInterrupted {
		t.Errorf("stopReason %q, want interrupted", r.Run.StopReason)
	}
	checkLedger(t, r)
	checkAgreesWithMock(t, r, srv.Stats())
	if r.Run.Duration() > 30*time.Second {
		t.Errorf("run lasted %s: the signal did not stop it", r.Run.Duration())
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !bytes.Contains(html, []byte("</html>")) {
		t.Errorf("report.html incomplete (%v)", err)
	}

	// The capture holds every generated event, whole lines only.
	rd, err := recorder.Open(capture, recorder.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var n int64
	for {
		_, err := rd.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		n++
	}
	if n != r.Totals.Events.Generated {
		t.Errorf("capture holds %d events, run generated %d", n, r.Totals.Events.Generated)
	}
	if !strings.Contains(stderr.String(), "stopping") {
		t.Errorf("stderr does not say it is stopping:\n%s", stderr.String())
	}
}

// TestSecondSignalExitsAtOnce: while a stalled target holds the drain, a
// second SIGINT ends the process at once, and the capture it leaves reads
// cleanly up to its last whole line.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// From 2 s in, the target answers for 1 ms in every 2 s: drains crawl.
	url, srv := startMock(t, mock.Config{Faults: mock.Faults{Stall: mock.Stall{Every: 2 * time.Second, For: 1999 * time.Millisecond}}})
	bin := buildBinary(t)
	dir := t.TempDir()
	capture := filepath.Join(dir, "capture.ndjson")
	stderr := newServeOutput() // safe to read while the process writes
	cmd := exec.Command(bin, "run", "--quiet", "--target", url, "--out", filepath.Join(dir, "out"), "--record", capture, "--duration", "60s", "--drain", "30s")
	cmd.Stderr = stderr
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, 30*time.Second, "the stall to hold a request", func() bool { return srv.Stats().Faults.Stalls > 0 })
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, 10*time.Second, "the first signal to be taken", func() bool { return strings.Contains(stderr.String(), "stopping") })
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("a second SIGINT did not end loadgen within 5 s\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitFailed {
		t.Errorf("exit %d after a second signal, want %d", code, exitFailed)
	}
	rd, err := recorder.Open(capture, recorder.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for {
		_, err := rd.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("capture after a hard exit, event %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 {
		t.Error("the capture holds no event")
	}
}
