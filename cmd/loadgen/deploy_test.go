package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/internal/mock"
)

// manifestArgs returns the container args of deploy/kubernetes/job.yaml and
// its completions, read line by line (the manifest is plain enough).
func manifestArgs(t *testing.T) (args []string, completions, parallelism int) {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/kubernetes/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "completions:"):
			completions, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(trim, "completions:")))
		case strings.HasPrefix(trim, "parallelism:"):
			parallelism, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(trim, "parallelism:")))
		case trim == "args:":
			in = true
		case in && strings.HasPrefix(trim, "- "):
			args = append(args, strings.TrimPrefix(trim, "- "))
		case in:
			in = false
		}
	}
	return args, completions, parallelism
}

// TestKubernetesJobShardsMerge runs the Indexed Job's command line for every
// index (against a mock instead of the org, for a short time) and merges the
// shards as merge-job.yaml does: the manifest's flags are ones loadgen
// takes, its shard count matches the Job's, and the shards add up.
func TestKubernetesJobShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four shards")
	}
	args, completions, parallelism := manifestArgs(t)
	if completions < 2 || completions != parallelism {
		t.Fatalf("completions %d, parallelism %d: want equal and > 1", completions, parallelism)
	}
	shard := regexp.MustCompile(`^--shard=\$\(JOB_COMPLETION_INDEX\)/(\d+)$`)
	var n int
	for _, a := range args {
		if m := shard.FindStringSubmatch(a); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
	}
	if n != completions {
		t.Fatalf("--shard N is %d, the Job has %d completions (args %q)", n, completions, args)
	}
	url, srv := startMock(t, mock.Config{RateLimit: mock.RateLimit{PerMinute: -1}})
	dir := t.TempDir()
	var runs []string
	var generated int64
	for i := 0; i < n; i++ {
		var shardArgs []string
		for _, a := range args {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i))
			switch {
			case a == "/scenario/scenario.yaml":
				a = "../../scenarios/default.yaml"
			case strings.HasPrefix(a, "--target="):
				a = "--target=" + url
			case strings.HasPrefix(a, "--out=/results/"):
				a = "--out=" + filepath.Join(dir, strings.TrimPrefix(a, "--out=/results/"))
			}
			shardArgs = append(shardArgs, a)
		}
		res := runCmd(t, append(shardArgs, "--duration", "2s")...)
		if res.code != exitOK {
			t.Fatalf("shard %d: exit %d\n%s", i, res.code, res.stderr)
		}
		out := filepath.Join(dir, "shard-"+strconv.Itoa(i))
		r := readRun(t, out)
		if r.Run.Shard.Index != i || r.Run.Shard.Count != n {
			t.Errorf("shard %d: run.json says shard %+v", i, r.Run.Shard)
		}
		generated += r.Totals.Events.Generated
		runs = append(runs, filepath.Join(out, "run.json"))
	}
	merged := filepath.Join(dir, "merged")
	if res := runCmd(t, append([]string{"merge", "-o", merged, "--quiet"}, runs...)...); res.code != exitOK {
		t.Fatalf("merge: exit %d\n%s", res.code, res.stderr)
	}
	m := readRun(t, merged)
	checkLedger(t, m)
	if m.Totals.Events.Generated != generated || generated == 0 {
		t.Errorf("merged generated %d, shards generated %d", m.Totals.Events.Generated, generated)
	}
	var acc int64
	for _, e := range srv.Stats().Endpoints {
		acc += e.Accepted
	}
	if m.Totals.Events.Accepted != acc {
		t.Errorf("merged accepted %d, mock accepted %d", m.Totals.Events.Accepted, acc)
	}
}
