package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/loadgen/loadgen/internal/golden"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/engine"
	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/scenarios"
)

// Sim is an engine.Source (checked here, so the package itself need not
// import the engine).
var _ engine.Source = (*Sim)(nil)

var start = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func embedded(t testing.TB, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Embedded(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parse(t testing.TB, yaml string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain runs a simulation to its end, checking the Source contract on the way.
func drain(t testing.TB, s *scenarios.Scenario, opts Options, each func(events.Timed)) {
	t.Helper()
	sim, err := New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var last time.Duration
	for {
		ev, err := sim.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.At < last {
			t.Fatalf("At went back from %s to %s", last, ev.At)
		}
		last = ev.At
		each(ev)
	}
	if _, err := sim.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: got %v, want io.EOF", err)
	}
}

func TestAllEventsFollowTheLifeCycleRules(t *testing.T) {
	sc := embedded(t, "all-events.yaml")
	if sc.Duration > 20*time.Second {
		t.Errorf("all-events lasts %s, want at most 20s", sc.Duration)
	}
	ck := newChecker(sc.Agents.Presence.OnQueue)
	var dtErrors int
	// Values the life-cycles should reach, besides every event type.
	want := map[string]int{
		`"status":"Idle"`: 0, `"status":"Interacting"`: 0, `"status":"NotResponding"`: 0, `"status":"OffQueue"`: 0,
		`"finalState":"Completed"`: 0, `"finalState":"Failed"`: 0,
		`"presenceDefinitionId":"` + sc.Agents.Presence.Break + `"`: 0,
		`"previousEmailId"`: 0, `"skillIds"`: 0, `"languageId"`: 0, `"code"`: 0,
		`"disconnectType":"Self"`: 0, `"disconnectType":"Peer"`: 0, `"disconnectType":"TransferConsult"`: 0,
	}
	drain(t, sc, Options{Start: start}, func(ev events.Timed) {
		ck.add(ev.Event)
		for k := range want {
			if bytes.Contains(ev.JSON, []byte(k)) {
				want[k]++
			}
		}
		want := events.AppendDateTime(nil, start.Add(ev.At))
		if !bytes.Contains(ev.JSON, append([]byte(`"eventDateTime":`), want...)) {
			dtErrors++
		}
	})
	if n := ck.total(); n != 0 {
		t.Errorf("%d violations %v, e.g.:\n%s", n, ck.violations, strings.Join(ck.examples, "\n"))
	}
	if dtErrors > 0 {
		t.Errorf("%d events have an eventDateTime other than Start+At", dtErrors)
	}
	for _, typ := range events.Types() {
		if ck.types[typ] == 0 {
			t.Errorf("no %s in all-events", typ)
		}
	}
	for k, n := range want {
		if n == 0 {
			t.Errorf("no event with %s in all-events", k)
		}
	}
}

// TestShippedScenariosFollowTheRules runs every shipped scenario (cut to
// 60 s) through the checker.
func TestShippedScenariosFollowTheRules(t *testing.T) {
	for _, name := range scenarios.EmbeddedNames() {
		t.Run(name, func(t *testing.T) {
			sc := embedded(t, name)
			ck := newChecker(sc.Agents.Presence.OnQueue)
			n := 0
			drain(t, sc, Options{Start: start, Duration: min(sc.Duration, time.Minute)}, func(ev events.Timed) {
				ck.add(ev.Event)
				n++
			})
			if ck.total() != 0 {
				t.Errorf("%d violations %v, e.g.:\n%s", ck.total(), ck.violations, strings.Join(ck.examples, "\n"))
			}
			if n == 0 {
				t.Error("no events")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	sc := embedded(t, "all-events.yaml")
	collect := func(s *scenarios.Scenario, o Options) []byte {
		var buf bytes.Buffer
		drain(t, s, o, func(ev events.Timed) {
			buf.WriteString(ev.At.String())
			buf.WriteByte(' ')
			buf.WriteString(ev.Type.String())
			buf.WriteByte(' ')
			buf.Write(ev.JSON)
			buf.WriteByte('\n')
		})
		return buf.Bytes()
	}
	a := collect(sc, Options{Start: start})
	b := collect(sc, Options{Start: start})
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs with the same seed and start differ (%d vs %d bytes)", len(a), len(b))
	}
	if len(a) < 100_000 {
		t.Fatalf("got only %d bytes of events", len(a))
	}
	other := *sc
	other.Seed++
	if c := collect(&other, Options{Start: start}); bytes.Equal(a, c) {
		t.Error("a different seed gives the same stream")
	}
}

// TestStreamGolden pins the default scenario's stream: its first events in
// full and a digest of all of them. A change here changes every capture
// and regression baseline, so it must be deliberate (-update).
func TestStreamGolden(t *testing.T) {
	var head bytes.Buffer
	h := sha256.New()
	n := 0
	drain(t, embedded(t, "default.yaml"), Options{Start: start}, func(ev events.Timed) {
		line := fmt.Sprintf("%s %s %s\n", ev.At, ev.Type, ev.JSON)
		h.Write([]byte(line))
		if n < 12 {
			head.WriteString(line)
		}
		n++
	})
	got := fmt.Sprintf("%d events, sha256 %s\n%s", n, hex.EncodeToString(h.Sum(nil)), head.String())
	// A change here changes every seeded run: -update only on purpose.
	golden.Check(t, filepath.Join("testdata", "TestStreamGolden.golden"), []byte(got), *update)
}

func TestShardsSplitTheScenario(t *testing.T) {
	sc := embedded(t, "all-events.yaml")
	type counts struct {
		events  int
		agents  map[string]bool
		convs   map[string]bool
		perType [events.NumTypes]int
	}
	run := func(o Options) counts {
		c := counts{agents: map[string]bool{}, convs: map[string]bool{}}
		drain(t, sc, o, func(ev events.Timed) {
			c.events++
			c.perType[ev.Type]++
			if ev.Type == events.TypeUserPresence {
				c.agents[string(ev.JSON[bytes.Index(ev.JSON, []byte(`"userId":"`))+10:][:36])] = true
			}
		})
		return c
	}
	whole := run(Options{Start: start})
	const n = 3
	union := counts{agents: map[string]bool{}}
	ids := map[string]bool{}
	for i := range n {
		part := run(Options{Start: start, ShardIndex: i, ShardCount: n})
		union.events += part.events
		for a := range part.agents {
			if union.agents[a] {
				t.Errorf("agent %s is in two shards", a)
			}
			union.agents[a] = true
		}
		sim, _ := New(sc, Options{Start: start, ShardIndex: i, ShardCount: n})
		for {
			ev, err := sim.Next(context.Background())
			if err != nil {
				break
			}
			if ids[ev.ID] {
				t.Fatalf("eventId %s in two shards", ev.ID)
			}
			ids[ev.ID] = true
		}
	}
	if len(union.agents) != len(whole.agents) || len(whole.agents) != sc.Agents.N() {
		t.Errorf("shards log in %d agents, whole run %d, scenario has %d", len(union.agents), len(whole.agents), sc.Agents.N())
	}
	ratio := float64(union.events) / float64(whole.events)
	if ratio < 0.75 || ratio > 1.25 {
		t.Errorf("shards make %d events together, whole run %d (ratio %.2f): rates must be split, not multiplied",
			union.events, whole.events, ratio)
	}
}

func TestFaultsBreakChosenEvents(t *testing.T) {
	tests := []struct {
		name                    string
		faults                  string
		wantAtLeast, wantAtMost int
	}{
		{"none", "", 0, 0},
		{"first three", "faults: {invalidEvents: 3}", 3, 3},
		{"rate", "faults: {invalidRate: 0.5}", 10, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := parse(t, "name: f\nduration: 10s\ntimeScale: 10\nagents: {count: 10}\narrivals: {rate: 1}\n"+tc.faults+"\n")
			ck := newChecker(sc.Agents.Presence.OnQueue)
			broken, agentState := 0, 0
			drain(t, sc, Options{Start: start}, func(ev events.Timed) {
				ck.add(ev.Event)
				if ev.Type != events.TypeUserPresence && ev.Type != events.TypeUserRoutingStatus {
					return
				}
				agentState++
				if bytes.Contains(ev.JSON, []byte(`"sourceId"`)) {
					return
				}
				if !bytes.Contains(ev.JSON, []byte(`"eventId":"`+ev.ID+`"`)) {
					t.Errorf("broken event lost its eventId: %s", ev.JSON)
				}
				broken++
			})
			if broken < tc.wantAtLeast || broken > tc.wantAtMost {
				t.Errorf("got %d broken of %d agent-state events, want %d..%d", broken, agentState, tc.wantAtLeast, tc.wantAtMost)
			}
			// Broken events miss a required field and nothing else goes wrong.
			if got := ck.violations["missingField"]; got != broken || ck.total() != broken {
				t.Errorf("checker found %v, want exactly %d missingField", ck.violations, broken)
			}
		})
	}
}

// TestPlanPredictsTheSimulation keeps Scenario.Plan and TypicalSize honest.
func TestPlanPredictsTheSimulation(t *testing.T) {
	for _, name := range []string{"default.yaml", "all-events.yaml", "email-heavy.yaml", "contact-center-peak.yaml"} {
		t.Run(name, func(t *testing.T) {
			sc := embedded(t, name)
			sc.Duration = max(sc.Duration, 2*time.Minute) // more samples, steadier averages
			var n [events.NumEndpoints]int
			var size [events.NumTypes]int
			var cnt [events.NumTypes]int
			drain(t, sc, Options{Start: start}, func(ev events.Timed) {
				n[ev.Type.Endpoint()]++
				size[ev.Type] += len(ev.JSON)
				cnt[ev.Type]++
			})
			p := sc.Plan()
			for _, ep := range events.Endpoints() {
				want := p.Endpoints[ep].Events
				if got := float64(n[ep]); math.Abs(got-want) > 0.3*want+10 {
					t.Errorf("%s: simulated %d events, plan says %.0f", ep, n[ep], want)
				}
			}
			for _, typ := range events.Types() {
				if cnt[typ] < 5 {
					continue
				}
				avg := float64(size[typ]) / float64(cnt[typ])
				if want := float64(scenarios.TypicalSize(typ)); math.Abs(avg-want) > 0.25*want {
					t.Errorf("%s: average size %.0f bytes, TypicalSize says %.0f", typ, avg, want)
				}
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	sc := embedded(t, "default.yaml")
	tests := []struct {
		name string
		opts Options
	}{
		{"index past count", Options{Start: start, ShardIndex: 3, ShardCount: 3}},
		{"negative index", Options{Start: start, ShardIndex: -1, ShardCount: 2}},
		{"negative count", Options{Start: start, ShardCount: -2}},
		{"more shards than agents", Options{Start: start, ShardIndex: 40, ShardCount: 50}},
		{"negative duration", Options{Start: start, Duration: -time.Second}},
		{"no start", Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(sc, tc.opts); !errors.Is(err, ErrOptions) {
				t.Errorf("got %v, want ErrOptions", err)
			}
		})
	}
}

func TestNextHonoursContext(t *testing.T) {
	sim, err := New(embedded(t, "default.yaml"), Options{Start: start})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestDurationOverrideAndPlanned(t *testing.T) {
	sc := embedded(t, "default.yaml")
	sim, err := New(sc, Options{Start: start, Duration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var last time.Duration
	var got [events.NumEndpoints]int
	for {
		ev, err := sim.Next(context.Background())
		if err != nil {
			break
		}
		last = ev.At
		got[ev.Type.Endpoint()]++
	}
	if last >= 5*time.Second {
		t.Errorf("last event at %s, want before the 5s override", last)
	}
	planned := sim.Planned()
	for i := range planned {
		if planned[i] == 0 {
			t.Errorf("Planned()[%s] = 0 (got %d events)", events.Endpoint(i), got[i])
		}
	}
}

// TestRealIDs: with the ids of a real org, events carry those ids and no
// generated ones.
func TestRealIDs(t *testing.T) {
	users := []string{"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36", "0b6f2d4e-8a1c-4f3e-9d27-4c5a8e1b7f60", "5d3a9c1f-2e7b-4d64-8f0a-b6c4e2d1a983"}
	queue := "1a7e3c5b-9d2f-4b8a-a6c1-0f4e8d2b7c95"
	source := "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"
	sc := parse(t, `
name: org
duration: 20s
timeScale: 20
source: {sourceId: `+source+`}
agents: {ids: [`+strings.Join(users, ", ")+`]}
queues: {ids: [`+queue+`]}
wrapUpCodes: {ids: [3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57]}
arrivals: {rate: 0.5}
voice: {talk: 30s}
`)
	re := regexp.MustCompile(`"(userId|agentId|queueId|destinationQueueId|sourceId|code)":"([^"]+)"`)
	allowed := map[string]bool{queue: true, source: true, "3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57": true}
	for _, u := range users {
		allowed[u] = true
	}
	seen := map[string]bool{}
	drain(t, sc, Options{Start: start}, func(ev events.Timed) {
		for _, m := range re.FindAllSubmatch(ev.JSON, -1) {
			if !allowed[string(m[2])] {
				t.Fatalf("%s %s is not one of the scenario's ids: %s", m[1], m[2], ev.JSON)
			}
			seen[string(m[2])] = true
		}
	})
	for id := range allowed {
		if !seen[id] {
			t.Errorf("id %s never used", id)
		}
	}
}

// TestExtremeValues: huge durations, tiny and huge rates and scales must
// neither panic nor break the order of At.
func TestExtremeValues(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"huge uniform", "voice: {talk: {uniform: [0s, 2562047h47m16.854775807s]}}"},
		{"huge lognormal", "voice: {talk: {lognormal: {mean: 2000000h, stddev: 2000000h}}}"},
		{"tiny rate", "arrivals: {rate: 1e-300}"},
		{"tiny constant rate", "arrivals: {process: constant, rate: 1e-300}"},
		{"huge rate", "arrivals: {rate: 1000000}"},
		{"slow scale", "timeScale: 0.000001"},
		{"fast scale", "timeScale: 1000000"},
		{"ramp from zero", "arrivals: {process: constant, rate: 0, stages: [{duration: 5s, target: 0}, {duration: 1s, target: 5}]}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := parse(t, "name: x\nduration: 10s\nagents: {count: 5}\n"+tc.yaml+"\n")
			sim, err := New(sc, Options{Start: start})
			if err != nil {
				t.Fatal(err)
			}
			var last time.Duration
			for range 20_000 {
				ev, err := sim.Next(context.Background())
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if ev.At < last || ev.At >= 10*time.Second {
					t.Fatalf("At %s after %s, want non-decreasing and within the run", ev.At, last)
				}
				last = ev.At
			}
		})
	}
}

// FuzzSim runs fuzzed scenarios for a few thousand events: no panic, At
// never decreases, every event inside the run.
func FuzzSim(f *testing.F) {
	for _, name := range scenarios.EmbeddedNames() {
		data, err := scenarios.EmbeddedSource(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scenarios.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		sim, err := New(sc, Options{Start: start})
		if err != nil {
			return
		}
		var last time.Duration
		for range 3000 {
			ev, err := sim.Next(context.Background())
			if err != nil {
				return
			}
			if ev.At < last || ev.At >= sc.Duration {
				t.Fatalf("At %s after %s (duration %s)", ev.At, last, sc.Duration)
			}
			last = ev.At
		}
	})
}

// TestScale: 100,000 agents and about 10,000 concurrent conversations run
// with memory bounded by the live state, not by the duration.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	sc := parse(t, `
name: scale
duration: 30m
agents: {count: 100000, loginSpread: 60s}
arrivals: {rate: 40}
voice:
  talk: {exponential: 240s}
  wrapup: {probability: 1, duration: 10s}
`)
	sim, err := New(sc, Options{Start: start})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var peakConvs, peakPending int
	heapAt := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var mid uint64
	for {
		ev, err := sim.Next(ctx)
		if err != nil {
			break
		}
		if c, p := sim.Live(); c > peakConvs || p > peakPending {
			peakConvs, peakPending = max(peakConvs, c), max(peakPending, p)
		}
		if mid == 0 && ev.At > 15*time.Minute {
			mid = heapAt()
		}
	}
	end := heapAt()
	if peakConvs < 8000 {
		t.Errorf("peak %d concurrent conversations, want about 10,000", peakConvs)
	}
	if limit := 3*len(sim.agents) + 8*peakConvs; peakPending > limit {
		t.Errorf("peak %d pending actions, want at most %d (proportional to live state)", peakPending, limit)
	}
	if float64(end) > 1.5*float64(mid)+8<<20 {
		t.Errorf("heap grew from %d MB at 15 min to %d MB at 30 min", mid>>20, end>>20)
	}
	t.Logf("peak %d conversations, %d pending actions; heap %d MB at 15 min, %d MB at 30 min",
		peakConvs, peakPending, mid>>20, end>>20)
}

// BenchmarkNext measures the next-event step: simulating, building and
// encoding one event of a large contact centre.
func BenchmarkNext(b *testing.B) {
	sc := embedded(b, "contact-center-peak.yaml")
	sc.Duration = 1000 * time.Hour
	sim, err := New(sc, Options{Start: start})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := sim.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
