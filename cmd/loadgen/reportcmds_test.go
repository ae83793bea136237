package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// rcWriteRun writes a small deterministic run.json (100 presence batches
// with service times scaled by scale, batches selected by keep) and
// returns its path.
func rcWriteRun(t *testing.T, dir, name string, scale time.Duration, keep func(int) bool, thresholds ...string) string {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := report.NewCollector(report.CollectorConfig{Start: start})
	for b := 0; b < 100; b++ {
		if keep != nil && !keep(b) {
			continue
		}
		id := fmt.Sprintf("ev-%03d", b)
		c.Generated(&events.Timed{Event: events.Event{Type: events.TypeUserPresence, ID: id}})
		at := start.Add(time.Duration(b) * 10 * time.Millisecond)
		outcome := report.Accepted
		if b%25 == 0 {
			outcome = report.Rejected
		}
		c.Add(&report.Result{Endpoint: events.Presence, Attempt: 1, Status: 202, FirstIntended: at, Intended: at, Sent: at,
			Done: at.Add(scale * time.Duration(1+b%10)), BytesOut: 100,
			Events: []report.EventResult{{ID: id, Type: events.TypeUserPresence, Outcome: outcome, Message: "userId: unknown"}}})
	}
	ths, err := report.ParseThresholds(thresholds)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Finish(report.Meta{Scenario: "cli", Seed: 7, StartedAt: start, EndedAt: start.Add(time.Second), Thresholds: ths})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := report.WriteFileAtomic(path, func(w io.Writer) error { return report.WriteJSON(w, r) }); err != nil {
		t.Fatal(err)
	}
	return path
}

// rcRun runs the loadgen command line and returns exit code, stdout, stderr.
func rcRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	runJSON := rcWriteRun(t, dir, "run.json", time.Millisecond, nil, "presence.p99 < 1s")
	newer := filepath.Join(dir, "newer.json")
	if err := os.WriteFile(newer, []byte(`{"schemaVersion": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte("{\n\"schemaVersion\": 1,\n\"run\": [}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string // substring
		stderr  string // substring
		files   []string
		noFiles []string
	}{
		{"default: text and html beside", []string{"report", runJSON}, exitOK, "presence", "", []string{"report.html"}, nil},
		{"junit only, flag after file", []string{"report", runJSON, "--junit", filepath.Join(dir, "j.xml")}, exitOK, "", "wrote", []string{"j.xml"}, nil},
		{"html elsewhere and text", []string{"report", "--html", filepath.Join(dir, "x.html"), "--text", runJSON}, exitOK, "PASS", "", []string{"x.html"}, nil},
		{"no file", []string{"report"}, exitUsage, "", "want exactly one", nil, nil},
		{"missing file", []string{"report", filepath.Join(dir, "nope.json")}, exitUsage, "", "nope.json", nil, nil},
		{"newer schema", []string{"report", newer}, exitUsage, "", "newer.json: bad run.json: schemaVersion 2 is newer", nil, nil},
		{"broken json", []string{"report", broken}, exitUsage, "", "broken.json: bad run.json: line 3", nil, nil},
		{"bad flag", []string{"report", "--pdf", runJSON}, exitUsage, "", "pdf", nil, nil},
		{"help", []string{"report", "-h"}, exitOK, "", "usage: loadgen report", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := rcRun(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q want %q; stderr %q want %q", stdout, tc.stdout, stderr, tc.stderr)
			}
			for _, f := range tc.files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil || len(b) == 0 {
					t.Errorf("%s not written: %v", f, err)
				}
			}
			if len(tc.args) > 2 && tc.args[2] == "--junit" && stdout != "" {
				t.Errorf("--junit alone printed %q, want nothing on stdout", stdout)
			}
			for _, f := range tc.noFiles {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("%s written, want not", f)
				}
			}
		})
	}
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	base := rcWriteRun(t, dir, "base.json", time.Millisecond, nil)
	same := rcWriteRun(t, dir, "same.json", time.Millisecond, nil)
	slow := rcWriteRun(t, dir, "slow.json", 2*time.Millisecond, nil)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"same data passes", []string{"compare", base, same}, exitOK, "OK: no regression", ""},
		{"doubled latency regresses", []string{"compare", base, slow}, exitThreshold, "REGRESSED", ""},
		{"tolerance absorbs it", []string{"compare", base, slow, "--tolerance", "150%"}, exitOK, "OK", ""},
		{"per-metric override", []string{"compare", "--tolerance-metric", "p50=2", "--tolerance-metric", "p99=2", "--tolerance-metric", "presence.p999=200%", base, slow}, exitOK, "OK", ""},
		{"markdown", []string{"compare", "--markdown", base, slow}, exitThreshold, "| presence | p99 |", ""},
		{"bad tolerance", []string{"compare", "--tolerance", "lots", base, same}, exitUsage, "", "--tolerance"},
		{"unknown metric", []string{"compare", "--tolerance-metric", "p98=10%", base, same}, exitUsage, "", `unknown metric "p98"`},
		{"one file", []string{"compare", base}, exitUsage, "", "want BASE.json and HEAD.json"},
		{"missing head", []string{"compare", base, filepath.Join(dir, "head.json")}, exitUsage, "", "head.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := rcRun(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q want %q; stderr %q want %q", stdout, tc.stdout, stderr, tc.stderr)
			}
		})
	}
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	even := rcWriteRun(t, dir, "even.json", time.Millisecond, func(b int) bool { return b%2 == 0 }, "events.rejected <= 4")
	odd := rcWriteRun(t, dir, "odd.json", time.Millisecond, func(b int) bool { return b%2 == 1 }, "events.rejected <= 4")
	whole := rcWriteRun(t, dir, "whole.json", time.Millisecond, nil)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"halves", []string{"merge", "-o", filepath.Join(dir, "m1"), even, odd}, exitOK, "PASS", "merged 2 runs"},
		{"failing threshold", []string{"merge", "-o", filepath.Join(dir, "m2"), even, odd, "--threshold", "presence.p99 < 1ms"}, exitThreshold, "FAIL  presence.p99 < 1ms", ""},
		{"bad threshold", []string{"merge", "-o", filepath.Join(dir, "m3"), even, "--threshold", "presence.p98 < 1ms"}, exitUsage, "", `unknown metric "p98"`},
		{"no output dir", []string{"merge", even, odd}, exitUsage, "", "want -o DIR"},
		{"bad input names file", []string{"merge", "-o", filepath.Join(dir, "m4"), even, filepath.Join(dir, "gone.json")}, exitUsage, "", "gone.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := rcRun(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q want %q; stderr %q want %q", stdout, tc.stdout, stderr, tc.stderr)
			}
		})
	}
	m, err := report.ReadFile(filepath.Join(dir, "m1", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := report.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	if m.Totals.Events != w.Totals.Events || m.Totals.Latency != w.Totals.Latency {
		t.Errorf("merged totals %+v / %+v, want %+v / %+v", m.Totals.Events, m.Totals.Latency, w.Totals.Events, w.Totals.Latency)
	}
	if _, err := os.Stat(filepath.Join(dir, "m1", "report.html")); err != nil {
		t.Errorf("report.html: %v", err)
	}
}
