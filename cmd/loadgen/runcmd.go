package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loadgen/loadgen/internal/engine"
	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/internal/mock"
	"github.com/loadgen/loadgen/internal/sim"
	"github.com/loadgen/loadgen/recorder"
	"github.com/loadgen/loadgen/report"
	"github.com/loadgen/loadgen/scenarios"
)

// Environment variables, the names the Genesys tooling already uses.
const (
	envClientID     = "GENESYSCLOUD_OAUTHCLIENT_ID"
	envClientSecret = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
	envRegion       = "GENESYSCLOUD_REGION"
	envAccessToken  = "GENESYSCLOUD_ACCESS_TOKEN"
)

// usageError is a bad flag, file or scenario: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// sendFlags are the flags run and replay share: where to send, how, and
// where the results go.
type sendFlags struct {
	target, region, login string
	out, record, junit    string
	caCert                string
	credentials           string
	shard                 string
	quiet, insecure       bool
	allowLive, dryRun     bool
	thresholds            stringList
	inFlight              int
	rps                   float64
	retryMode             string
	requestTimeout, drain time.Duration
	linger                time.Duration
}

func (f *sendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "base URL of the Events API (default: an embedded mock on loopback)")
	fs.StringVar(&f.region, "region", "", "Genesys Cloud region (us-east-1, eu-west-1, …) instead of --target; default $"+envRegion)
	fs.StringVar(&f.login, "login", "", "base URL of the OAuth login host (default: derived from the target)")
	fs.StringVar(&f.out, "out", "loadgen-out", "directory for run.json, report.html and failures.ndjson")
	fs.StringVar(&f.record, "record", "", "write the events sent to this capture file (.gz to compress)")
	fs.StringVar(&f.junit, "junit", "", "also write JUnit XML (one test case per threshold) to this file")
	fs.StringVar(&f.caCert, "ca-cert", "", "PEM file of an extra CA to trust for the target")
	fs.StringVar(&f.credentials, "credentials", "", "file of GENESYSCLOUD_*=VALUE lines to read credentials from instead of the environment")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the target's TLS certificate (printed as a warning)")
	fs.StringVar(&f.shard, "shard", "", "run shard I of N (I/N, zero-based), for scale-out; rates are split")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bars")
	fs.BoolVar(&f.allowLive, "allow-live", false, "allow sending to a real Genesys Cloud org")
	fs.BoolVar(&f.dryRun, "dry-run", false, "build and check every batch locally, send nothing")
	fs.Var(&f.thresholds, "threshold", "threshold expression such as 'conversations.p99 < 500ms' (repeatable)")
	fs.IntVar(&f.inFlight, "in-flight", 0, "maximum requests in flight (default: the scenario's)")
	fs.Float64Var(&f.rps, "rps", 0, "global requests/s limit (default: the scenario's)")
	fs.StringVar(&f.retryMode, "retry", "", "retry mode: client (retry, report first-attempt and end-to-end latency) or measure (no retries)")
	fs.DurationVar(&f.requestTimeout, "timeout", 30*time.Second, "timeout of one request")
	fs.DurationVar(&f.drain, "drain", 10*time.Second, "after a stop, how long in-flight requests may finish")
	fs.DurationVar(&f.linger, "linger", 0, "how long a batch may wait for more events (default: the scenario's)")
}

func newFlagSet(name string, stderr io.Writer, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may stand before, between or after the
// positional arguments (loadgen report RUN.json --junit FILE) and returns the
// positional ones; "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func parseShard(s string) (index, count int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(a)
	count, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || count < 1 || index < 0 || index >= count {
		return 0, 0, usagef("--shard %q: want I/N with 0 <= I < N", s)
	}
	return index, count, nil
}

// job is what run and replay hand to execute: a source of events and the
// settings that came from the scenario or the capture.
type job struct {
	src        engine.Source
	engine     engine.Config
	meta       report.Meta
	thresholds []report.Threshold
	planned    [events.NumEndpoints]int
	header     recorder.Header
	// replay and reader are set for loadgen replay: what run.json says of
	// the capture, and the reader whose skipped lines it counts.
	replay *report.ReplayInfo
	reader *recorder.Reader
}

// target is where a run sends, with its credentials.
type target struct {
	base, login string
	tokens      engine.TokenSource
	clientID    string
	client      *http.Client
	warnings    []string
	mock        *mock.Server // the embedded mock, when no target was given
	close       func()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// httpClient builds the client for the target: TLS verified unless
// --insecure, an extra CA from --ca-cert.
func httpClient(f *sendFlags, inFlight int) (*http.Client, []string, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	var warnings []string
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return nil, nil, usagef("--ca-cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, usagef("--ca-cert %s: no PEM certificate found", f.caCert)
		}
		tlsConf.RootCAs = pool
	}
	if f.insecure {
		tlsConf.InsecureSkipVerify = true
		warnings = append(warnings, "TLS certificate verification is off (--insecure)")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = max(inFlight, 16)
	tr.MaxConnsPerHost = 0
	tr.ForceAttemptHTTP2 = false
	// Headers and a typical batch body in one write (the default 4 KB buffer
	// splits a 22 KB body into several).
	tr.WriteBufferSize = 64 << 10
	return &http.Client{Transport: tr, Timeout: f.requestTimeout}, warnings, nil
}

// resolveTarget picks the target (flag, region or the embedded mock) and its
// credentials. Secrets come only from the environment.
func resolveTarget(f *sendFlags, inFlight int, seed int64, stderr io.Writer) (*target, error) {
	hc, warnings, err := httpClient(f, inFlight)
	if err != nil {
		return nil, err
	}
	t := &target{client: hc, warnings: warnings, close: hc.CloseIdleConnections}
	creds, err := loadCredentials(f.credentials)
	if err != nil {
		return nil, err
	}
	region := f.region
	if region == "" && f.target == "" {
		region = creds.get(envRegion)
	}
	switch {
	case f.target != "" && f.region != "":
		return nil, usagef("give --target or --region, not both")
	case f.target != "":
		u, err := url.Parse(f.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("--target: want a base URL such as https://api.mypurecloud.com")
		}
		if u.User != nil {
			// Secrets never come from flags, and would end up in run.json.
			return nil, usagef("--target: a user or password in the URL is not accepted; credentials come from the environment or --credentials")
		}
		t.base = strings.TrimRight(f.target, "/")
	case region != "":
		r, err := events.LookupRegion(region)
		if err != nil {
			return nil, usagef("region %q: unknown (known: us-east-1, eu-west-1, ap-southeast-2, …)", region)
		}
		t.base, t.login = r.API, r.Login
	default:
		return startEmbeddedMock(t, seed)
	}
	if f.login != "" {
		if u, err := url.Parse(f.login); err != nil || u.User != nil || u.Host == "" {
			return nil, usagef("--login: want a base URL without a user or password, such as https://login.mypurecloud.com")
		}
		t.login = strings.TrimRight(f.login, "/")
	} else if t.login == "" {
		if l, ok := events.LoginFor(t.base); ok {
			t.login = l
		} else {
			t.login = t.base // loadgen serve answers /oauth/token itself
		}
	}
	u, _ := url.Parse(t.base)
	if events.IsGenesysHost(u.Hostname()) && !f.allowLive && !f.dryRun {
		return nil, usagef("%s is a live Genesys Cloud org: events written there reach its workforce data; pass --allow-live to send, or --dry-run", u.Host)
	}
	if tok := creds.get(envAccessToken); tok != "" {
		t.tokens = engine.StaticToken(tok)
		t.clientID = "(access token from $" + envAccessToken + ")"
	} else {
		id, secret := creds.get(envClientID), creds.get(envClientSecret)
		if id == "" || secret == "" {
			if !f.dryRun {
				return nil, usagef("no credentials for %s: set %s and %s (or %s)", t.base, envClientID, envClientSecret, envAccessToken)
			}
		} else {
			t.tokens = engine.NewClientCredentials(t.login, id, secret, hc)
			t.clientID = id
		}
	}
	fmt.Fprintf(stderr, "loadgen: target %s (login %s), OAuth client %s\n", t.base, t.login, t.clientID)
	return t, nil
}

// startEmbeddedMock serves the mock Events API on a random loopback port,
// with a client made up for this run, so loadgen works with no account.
func startEmbeddedMock(t *target, seed int64) (*target, error) {
	id, secret := "loadgen-embedded-"+randomHex(4), randomHex(24)
	srv, err := mock.New(mock.Config{
		Clients: []mock.Client{{ID: id, Secret: secret, Permissions: []string{
			events.Conversations.Permission(), events.Presence.Permission(), events.RoutingStatus.Permission()}}},
		Seed: seed,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded mock: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("embedded mock: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // returns when closed below
	t.base = "http://" + ln.Addr().String()
	t.login = t.base
	t.mock = srv
	t.clientID = id
	t.tokens = engine.NewClientCredentials(t.login, id, secret, t.client)
	t.close = func() {
		t.client.CloseIdleConnections()
		hs.Close()
	}
	return t, nil
}

// execute sends a job's events and writes every output. It is the shared
// back half of run and replay.
func execute(ctx context.Context, f *sendFlags, j *job, stdout, stderr io.Writer) int {
	t, err := resolveTarget(f, j.engine.Limits.MaxInFlight, j.meta.Seed, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer t.close()
	j.engine.Target = t.base
	j.engine.Tokens = t.tokens
	j.engine.HTTPClient = t.client
	j.engine.RequestTimeout = f.requestTimeout
	j.engine.DrainTimeout = f.drain
	j.engine.DryRun = f.dryRun
	j.meta.Target = t.base
	if t.mock != nil {
		j.meta.Target = "embedded mock (" + t.base + ")"
	}
	j.meta.Warnings = append(j.meta.Warnings, t.warnings...)
	for _, w := range t.warnings {
		fmt.Fprintln(stderr, "loadgen: warning:", w)
	}

	// Every file is (re)written from here on, even when the start fails
	// below: a failed run leaves a run.json that says so (stopReason error),
	// never the previous run's beside an emptied failures.ndjson.
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fail(stderr, usageError{fmt.Errorf("--out: %w", err)})
	}
	var rec *recorder.Writer
	if f.record != "" {
		rec, err = recorder.Create(f.record, j.header)
		if err != nil {
			return fail(stderr, usageError{fmt.Errorf("--record: %w", err)})
		}
	}
	failuresPath := filepath.Join(f.out, "failures.ndjson")
	failures, err := os.Create(failuresPath)
	if err != nil {
		if rec != nil {
			rec.Close()
		}
		return fail(stderr, usageError{fmt.Errorf("--out: %w", err)})
	}
	defer failures.Close()

	src := j.src
	if rec != nil {
		src = recorder.Tee(src, rec)
		// Flush whole lines every quarter second, so a process killed
		// mid-run (a second signal) leaves nearly all of its capture.
		flushDone := make(chan struct{})
		defer close(flushDone)
		go func() {
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-flushDone:
					return
				case <-t.C:
					if rec.Flush() != nil {
						return // closed, or a sticky write error Close will report
					}
				}
			}
		}()
	}

	// Dial the target and fetch a token before anchoring the schedule, so
	// neither counts as schedule lag of the first events.
	var startErr error
	if !f.dryRun {
		startErr = engine.Preflight(ctx, j.engine)
		j.engine.SkipPreflight = true
	}
	start := time.Now()
	j.engine.Start = start
	col := report.NewCollector(report.CollectorConfig{Start: start, Failures: failures})
	var sum engine.Summary
	var runErr error
	switch {
	case startErr != nil && ctx.Err() != nil:
		fmt.Fprintln(stderr, "loadgen: interrupted before the run started")
	case startErr != nil:
		runErr = startErr
	default:
		// Events left unsent by a stop are written to failures.ndjson as
		// they are settled, so the collector must know the reason first.
		stopWatch := context.AfterFunc(ctx, func() { col.Stopping(report.StopInterrupted) })
		defer stopWatch()
		pr := startProgress(ctx, stderr, f.quiet, j.planned, col)
		sum, runErr = engine.Run(ctx, j.engine, src, col)
		pr.stop(col)
	}
	if rec != nil {
		if err := rec.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("capture %s: %w", f.record, err)
		}
	}

	j.meta.StartedAt, j.meta.EndedAt = start, time.Now()
	if !sum.End.IsZero() {
		j.meta.EndedAt = sum.End
	}
	switch {
	case runErr != nil:
		j.meta.StopReason = report.StopError
	case errors.Is(context.Cause(ctx), errSignal):
		j.meta.StopReason = report.StopInterrupted
	case ctx.Err() != nil:
		j.meta.StopReason = report.StopInterrupted
	default:
		j.meta.StopReason = report.StopCompleted
	}
	j.meta.Generator.CPUSeconds, j.meta.Generator.MaxRSSBytes = report.ProcessUsage()
	j.meta.Thresholds = j.thresholds
	if j.replay != nil {
		j.replay.SkippedLines, j.replay.Truncated = j.reader.Skipped(), j.reader.Truncated()
		j.meta.Replay = j.replay
	}

	run, ledgerErr := col.Finish(j.meta)
	if run == nil {
		return fail(stderr, fmt.Errorf("internal error: %w", ledgerErr))
	}
	ok := run.Passed() // Finish evaluated meta.Thresholds
	if err := report.WriteFiles(f.out, run, report.FileOptions{}); err != nil {
		return fail(stderr, fmt.Errorf("writing results: %w", err))
	}
	if f.junit != "" {
		if err := report.WriteFileAtomic(f.junit, func(w io.Writer) error { return report.WriteJUnit(w, run) }); err != nil {
			return fail(stderr, fmt.Errorf("--junit: %w", err))
		}
	}
	if err := report.WriteText(stdout, run); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stderr, "loadgen: wrote %s, %s and %s\n",
		filepath.Join(f.out, "run.json"), filepath.Join(f.out, "report.html"), failuresPath)
	if t.mock != nil {
		st := t.mock.Stats()
		var acc int64
		for _, e := range st.Endpoints {
			acc += e.Accepted
		}
		fmt.Fprintf(stderr, "loadgen: embedded mock counted %d accepted events, %d sequence violations\n", acc, st.SequenceViolations.Total)
	}
	switch {
	case ledgerErr != nil:
		return fail(stderr, fmt.Errorf("internal error: %w", ledgerErr))
	case runErr != nil:
		return fail(stderr, runErr)
	case !ok:
		fmt.Fprintln(stderr, "loadgen: thresholds failed")
		return exitThreshold
	}
	return exitOK
}

// fail prints err as one line and maps it to an exit code.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "loadgen:", err)
	var ue usageError
	switch {
	case errors.As(err, &ue), errors.Is(err, fs.ErrNotExist), errors.Is(err, scenarios.ErrInvalid), errors.Is(err, recorder.ErrBadCapture),
		errors.Is(err, recorder.ErrVersion), errors.Is(err, report.ErrThreshold), errors.Is(err, engine.ErrConfig):
		return exitUsage
	}
	return exitFailed
}

// parseThresholds parses the scenario's thresholds (errors name the
// scenario's file:line:col) and the --threshold flags.
func parseThresholds(s *scenarios.Scenario, flags []string) ([]report.Threshold, error) {
	var out []report.Threshold
	if s != nil {
		for _, th := range s.Thresholds {
			p, err := report.ParseThreshold(th.Expr)
			if err != nil {
				return nil, usageError{fmt.Errorf("%s:%d:%d: thresholds: %w", s.File, th.Line, th.Column, err)}
			}
			out = append(out, p)
		}
	}
	for _, e := range flags {
		p, err := report.ParseThreshold(e)
		if err != nil {
			return nil, usageError{fmt.Errorf("--threshold: %w", err)}
		}
		out = append(out, p)
	}
	return out, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr, "loadgen run [flags] [SCENARIO.yaml]")
	var f sendFlags
	f.register(fs)
	seed := fs.Int64("seed", 0, "override the scenario's seed")
	duration := fs.Duration("duration", 0, "override the scenario's duration")
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(pos) > 1 {
		return fail(stderr, usagef("run takes at most one scenario file, got %d arguments", len(pos)))
	}
	var scn *scenarios.Scenario
	if len(pos) == 1 {
		scn, err = scenarios.Load(pos[0])
		if err != nil {
			return fail(stderr, err)
		}
	} else {
		scn = scenarios.Default()
	}
	seedSet := false
	fs.Visit(func(fl *flag.Flag) { seedSet = seedSet || fl.Name == "seed" })
	if seedSet {
		scn.SetSeed(*seed)
	}
	shardIndex, shardCount, err := parseShard(f.shard)
	if err != nil {
		return fail(stderr, err)
	}
	ths, err := parseThresholds(scn, f.thresholds)
	if err != nil {
		return fail(stderr, err)
	}
	ecfg, err := engineConfig(scn, &f)
	if err != nil {
		return fail(stderr, err)
	}
	s, err := sim.New(scn, sim.Options{Start: time.Now(), ShardIndex: shardIndex, ShardCount: shardCount, Duration: *duration})
	if err != nil {
		return fail(stderr, usageError{err})
	}
	j := &job{
		src:        s,
		engine:     ecfg,
		thresholds: ths,
		planned:    s.Planned(),
		meta: report.Meta{
			Scenario: scn.Name, ScenarioHash: scn.Hash(), Seed: scn.Seed,
			ShardIndex: shardIndex, ShardCount: shardCount,
		},
		header: recorder.Header{Source: "run", Scenario: scn.Name, ScenarioHash: scn.Hash(), Seed: scn.Seed},
	}
	return execute(ctx, &f, j, stdout, stderr)
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", stderr, "loadgen replay [flags] CAPTURE")
	var f sendFlags
	f.register(fs)
	speed := fs.String("speed", "1", "replay speed factor (2 = twice as fast, 0.5 = half) or max")
	from := fs.Duration("from", 0, "start at this offset into the capture")
	to := fs.Duration("to", 0, "stop at this offset into the capture (0 = the end)")
	loop := fs.Int("loop", 1, "replay the capture N times")
	rewrite := fs.Bool("rewrite-ids", false, "give every event, conversation, leg and transfer a new, consistent ID")
	runID := fs.String("run-id", "", "salt for --rewrite-ids (another value gives another set of IDs)")
	shift := fs.Bool("shift-time", false, "move eventDateTime so the replay looks like now")
	skipBad := fs.Bool("skip-bad", false, "skip malformed lines (counted in the report) instead of stopping")
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		return fail(stderr, usagef("replay takes one capture file"))
	}
	sp := math.Inf(1)
	if *speed != "max" {
		sp, err = strconv.ParseFloat(*speed, 64)
		if err != nil || sp <= 0 || math.IsNaN(sp) || math.IsInf(sp, 0) {
			return fail(stderr, usagef("--speed %q: want a positive number or max", *speed))
		}
	}
	if *loop < 1 {
		return fail(stderr, usagef("--loop %d: want 1 or more", *loop))
	}
	if *to != 0 && *to <= *from {
		return fail(stderr, usagef("--to %s must be after --from %s", *to, *from))
	}
	rd, err := recorder.Open(pos[0], recorder.ReadOptions{SkipBad: *skipBad})
	if err != nil {
		return fail(stderr, err)
	}
	defer rd.Close()
	src, err := recorder.Replay(rd, recorder.ReplayOptions{
		Speed: sp, From: *from, To: *to, Loop: *loop, RewriteIDs: *rewrite, RunID: *runID, ShiftTime: *shift,
	})
	if err != nil {
		return fail(stderr, usageError{err})
	}
	shardIndex, shardCount, err := parseShard(f.shard)
	if err != nil {
		return fail(stderr, err)
	}
	ths, err := parseThresholds(nil, f.thresholds)
	if err != nil {
		return fail(stderr, err)
	}
	ecfg, err := engineConfig(nil, &f)
	if err != nil {
		return fail(stderr, err)
	}
	ecfg.Unpaced = math.IsInf(sp, 1)
	h := rd.Header()
	j := &job{
		src:        &checkedSource{src: src, reader: rd},
		engine:     ecfg,
		thresholds: ths,
		meta: report.Meta{
			Scenario: "replay:" + filepath.Base(pos[0]), ScenarioHash: h.ScenarioHash, Seed: h.Seed,
			ShardIndex: shardIndex, ShardCount: shardCount,
		},
		replay: &report.ReplayInfo{
			Capture: pos[0], Speed: replaySpeed(sp), Loop: *loop, RewriteIDs: *rewrite, ShiftTime: *shift,
			From: durString(*from), To: durString(*to),
		},
		reader: rd,
		header: recorder.Header{Source: "replay", Scenario: h.Scenario, ScenarioHash: h.ScenarioHash, Seed: h.Seed},
	}
	return execute(ctx, &f, j, stdout, stderr)
}

// checkedSource passes a replay through; it exists so a bad line found in
// mid-replay surfaces as a usage error (exit 2) rather than a run failure.
type checkedSource struct {
	src    recorder.Source
	reader *recorder.Reader
}

func (c *checkedSource) Next(ctx context.Context) (events.Timed, error) {
	ev, err := c.src.Next(ctx)
	if err != nil && !errors.Is(err, io.EOF) {
		return ev, usageError{err}
	}
	return ev, err
}

// engineConfig maps the scenario's batching, limits and retry policy (or
// defaults, for a replay) to the engine, with flags taking precedence.
func engineConfig(s *scenarios.Scenario, f *sendFlags) (engine.Config, error) {
	var c engine.Config
	if s != nil {
		c.Batch = engine.BatchConfig{MaxEvents: s.Batching.MaxEvents, MaxBytes: s.Batching.MaxBytes, Linger: s.Batching.Linger}
		c.Limits = engine.Limits{
			RequestsPerSecond: s.Limits.RequestsPerSecond,
			PerEndpoint:       s.Limits.Endpoint,
			EventsPerSecond:   s.Limits.EventsPerSecond,
			MaxInFlight:       s.Limits.InFlight,
		}
		c.Retry = engine.RetryConfig{
			MaxAttempts: s.Retry.MaxAttempts,
			BaseBackoff: s.Retry.Backoff.Initial,
			MaxBackoff:  s.Retry.Backoff.Max,
			Budget:      s.Retry.Budget,
		}
		if s.Retry.Budget == 0 {
			c.Retry.Budget = -1 // the scenario's 0 means no cap
		}
		if s.Retry.Mode == scenarios.RetryMeasure {
			c.Retry.Mode = engine.RetryMeasure
		}
	}
	if f.linger > 0 {
		c.Batch.Linger = f.linger
	}
	if f.inFlight > 0 {
		c.Limits.MaxInFlight = f.inFlight
	}
	if f.rps > 0 {
		c.Limits.RequestsPerSecond = f.rps
	}
	switch f.retryMode {
	case "":
	case "client":
		c.Retry.Mode = engine.RetryClient
	case "measure":
		c.Retry.Mode = engine.RetryMeasure
	default:
		return c, usagef("--retry %q: want client or measure", f.retryMode)
	}
	return c, nil
}

// replaySpeed is the speed as run.json records it: 0 for max.
func replaySpeed(sp float64) float64 {
	if math.IsInf(sp, 1) {
		return 0
	}
	return sp
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
