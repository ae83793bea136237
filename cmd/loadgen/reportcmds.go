package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loadgen/loadgen/report"
)

// reportFlagExit maps a flag parse error to an exit code: -h is not an error.
func reportFlagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// reportParseFraction reads "10%" or "0.1" as 0.1.
func reportParseFraction(s string) (float64, error) {
	t := strings.TrimSpace(s)
	div := 1.0
	if strings.HasSuffix(t, "%") {
		t, div = strings.TrimSpace(strings.TrimSuffix(t, "%")), 100
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v != v || v > 1e9 {
		return 0, fmt.Errorf("%q: want a non-negative number or percentage such as 10%%", s)
	}
	return v / div, nil
}

// cmdReport re-renders a saved run.json: with no output flag it prints the
// text summary and writes report.html beside the run; with flags it writes
// exactly what they ask for.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	htmlPath := fs.String("html", "", "write the HTML report to `FILE`")
	junitPath := fs.String("junit", "", "write JUnit XML (one test case per threshold and per endpoint) to `FILE`")
	text := fs.Bool("text", false, "print the text summary to stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen report RUN.json [--html FILE] [--junit FILE] [--text]\n\nWith no flag: prints the text summary and writes report.html beside RUN.json.")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return reportFlagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "loadgen report: want exactly one RUN.json")
		fs.Usage()
		return exitUsage
	}
	r, err := report.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "loadgen report: %v\n", err)
		return exitUsage
	}
	if *htmlPath == "" && *junitPath == "" && !*text {
		*text = true
		*htmlPath = filepath.Join(filepath.Dir(pos[0]), report.FileHTML)
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer, *report.Run) error
	}{{*htmlPath, report.WriteHTML}, {*junitPath, report.WriteJUnit}} {
		if out.path == "" {
			continue
		}
		if err := report.WriteFileAtomic(out.path, func(w io.Writer) error { return out.write(w, r) }); err != nil {
			fmt.Fprintf(stderr, "loadgen report: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "loadgen report: wrote %s\n", out.path)
	}
	if *text {
		if err := report.WriteText(stdout, r); err != nil {
			fmt.Fprintf(stderr, "loadgen report: %v\n", err)
			return exitFailed
		}
	}
	return exitOK
}

// cmdCompare compares two runs and exits 1 when HEAD regressed against BASE.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tol := fs.String("tolerance", "10%", "allowed change in the bad direction before a metric regresses")
	var overrides stringList
	fs.Var(&overrides, "tolerance-metric", "per-metric tolerance `METRIC=TOL`, e.g. p99=20% or conversations.errors.rate=0 (repeatable); metrics: "+strings.Join(report.CompareMetricNames(), ", "))
	markdown := fs.Bool("markdown", false, "print a Markdown table for a pull-request comment")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen compare BASE.json HEAD.json [--tolerance 10%] [--tolerance-metric p99=20%]... [--markdown]")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return reportFlagExit(err)
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "loadgen compare: want BASE.json and HEAD.json")
		fs.Usage()
		return exitUsage
	}
	opts := report.CompareOptions{Overrides: map[string]float64{}}
	if opts.Tolerance, err = reportParseFraction(*tol); err != nil {
		fmt.Fprintf(stderr, "loadgen compare: --tolerance %v\n", err)
		return exitUsage
	}
	metrics := report.CompareMetricNames()
	for _, o := range overrides {
		name, val, ok := strings.Cut(o, "=")
		if !ok {
			fmt.Fprintf(stderr, "loadgen compare: --tolerance-metric %q: want METRIC=TOL\n", o)
			return exitUsage
		}
		name = strings.TrimSpace(name)
		if !reportKnownCompareMetric(name, metrics) {
			fmt.Fprintf(stderr, "loadgen compare: --tolerance-metric %q: unknown metric %q (want [ENDPOINT.]%s)\n", o, name, strings.Join(metrics, "|"))
			return exitUsage
		}
		v, err := reportParseFraction(val)
		if err != nil {
			fmt.Fprintf(stderr, "loadgen compare: --tolerance-metric %v\n", err)
			return exitUsage
		}
		opts.Overrides[name] = v
	}
	runs := make([]*report.Run, 2)
	for i, p := range pos {
		if runs[i], err = report.ReadFile(p); err != nil {
			fmt.Fprintf(stderr, "loadgen compare: %v\n", err)
			return exitUsage
		}
	}
	c := report.Compare(runs[0], runs[1], opts)
	write := c.WriteText
	if *markdown {
		write = c.WriteMarkdown
	}
	if err := write(stdout); err != nil {
		fmt.Fprintf(stderr, "loadgen compare: %v\n", err)
		return exitFailed
	}
	if c.Regressed() {
		return exitThreshold
	}
	return exitOK
}

// reportKnownCompareMetric accepts METRIC or ENDPOINT.METRIC.
func reportKnownCompareMetric(name string, metrics []string) bool {
	for _, m := range metrics {
		if name == m {
			return true
		}
		for _, ep := range []string{"conversations", "presence", "routingstatus"} {
			if name == ep+"."+m {
				return true
			}
		}
	}
	return false
}

// cmdMerge merges shard runs into DIR and exits 1 when a threshold breaks
// on the merged result.
func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `DIR` for the merged run.json and report.html (required)")
	var exprs stringList
	fs.Var(&exprs, "threshold", "threshold `EXPR` to evaluate on the merged run, e.g. 'conversations.p99 < 500ms' (repeatable)")
	junit := fs.Bool("junit", false, "also write junit.xml")
	quiet := fs.Bool("quiet", false, "do not print the text summary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen merge -o DIR RUN.json... [--threshold EXPR]... [--junit] [--quiet]")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return reportFlagExit(err)
	}
	if *out == "" || len(pos) == 0 {
		fmt.Fprintln(stderr, "loadgen merge: want -o DIR and at least one RUN.json")
		fs.Usage()
		return exitUsage
	}
	extra, err := report.ParseThresholds(exprs)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen merge: --threshold: %v\n", err)
		return exitUsage
	}
	runs := make([]*report.Run, len(pos))
	for i, p := range pos {
		if runs[i], err = report.ReadFile(p); err != nil {
			fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
			return exitUsage
		}
	}
	m, err := report.Merge(runs)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
		return exitUsage
	}
	if len(extra) > 0 {
		ths, err := m.ThresholdSet()
		if err != nil {
			fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
			return exitUsage
		}
		seen := map[string]bool{}
		for _, t := range ths {
			seen[t.Expr] = true
		}
		for _, t := range extra {
			if !seen[t.Expr] {
				ths = append(ths, t)
				seen[t.Expr] = true
			}
		}
		m.Evaluate(ths)
	}
	if err := report.WriteFiles(*out, m, report.FileOptions{JUnit: *junit}); err != nil {
		fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "loadgen merge: merged %d runs into %s\n", len(runs), filepath.Join(*out, report.FileRun))
	if !*quiet {
		if err := report.WriteText(stdout, m); err != nil {
			fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
			return exitFailed
		}
	}
	if !m.Passed() {
		return exitThreshold
	}
	return exitOK
}
