package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/mock"
)

// TestCompareRealRuns: two runs of the same seed against the same mock pass
// compare; a run against a mock with doubled latency fails it (exit 1).
func TestCompareRealRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("three runs of about 5 s")
	}
	dir := t.TempDir()
	runAgainst := func(name string, latency time.Duration) string {
		url, _ := startMock(t, mock.Config{Faults: mock.Faults{Latency: mock.Latency{Kind: mock.LatencyFixed, A: latency}}})
		out := filepath.Join(dir, name)
		res := runCmd(t, "run", "--quiet", "--seed", "5", "--duration", "5s", "--target", url, "--out", out)
		if res.code != exitOK {
			t.Fatalf("%s: exit %d\n%s", name, res.code, res.stderr)
		}
		return filepath.Join(out, "run.json")
	}
	base := runAgainst("base", 20*time.Millisecond)
	same := runAgainst("same", 20*time.Millisecond)
	slow := runAgainst("slow", 40*time.Millisecond)

	// Fixed mock latency dominates; 25 % absorbs this shared machine's noise.
	if res := runCmd(t, "compare", base, same, "--tolerance", "25%"); res.code != exitOK {
		t.Errorf("same seed, same target: exit %d, want 0\n%s%s", res.code, res.stdout, res.stderr)
	}
	res := runCmd(t, "compare", base, slow, "--tolerance", "25%")
	if res.code != exitThreshold {
		t.Errorf("doubled latency: exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "p50") || !strings.Contains(strings.ToLower(res.stdout), "regress") {
		t.Errorf("compare output does not name the p50 regression:\n%s", res.stdout)
	}
}
