package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	const head = "name: x\nduration: 10s\n"
	tests := []struct {
		name       string
		yaml       string
		line, col  int
		path       string
		msgContain string
	}{
		// unknown keys
		{"unknown top-level key", head + "agnets: {count: 3}\n", 3, 1, "agnets", `unknown key "agnets"`},
		{"unknown nested key", head + "agents:\n  count: 3\n  cuont: 4\n", 5, 3, "agents.cuont", "unknown key"},
		{"unknown key in a list item", head + "arrivals:\n  stages:\n    - {duration: 5s, tagret: 2}\n", 5, 22, "arrivals.stages[0].tagret", "unknown key"},
		{"target is not a scenario key", head + "target: https://api.mypurecloud.com\n", 3, 1, "target", "flags and the environment"},
		{"duplicate key", head + "seed: 1\nseed: 2\n", 4, 1, "seed", "duplicate key"},
		// wrong types
		{"string for an integer", head + "agents: {count: many}\n", 3, 17, "agents.count", "want an integer"},
		{"float for an integer", head + "seed: 1.5\n", 3, 7, "seed", "want an integer"},
		{"list for a mapping", head + "voice: [1, 2]\n", 3, 8, "voice", "want a mapping"},
		{"number for a duration", head + "batching: {linger: 5}\n", 3, 20, "batching.linger", "with a unit"},
		{"bad duration", head + "voice: {queueWait: 5 minutes}\n", 3, 20, "voice.queueWait", "want a duration"},
		{"bool for a probability", head + "voice: {hold: {probability: yes}}\n", 3, 29, "voice.hold.probability", "want a number"},
		{"number for a string", "name: 12\nduration: 10s\n", 1, 7, "name", "want a string"},
		{"not a uuid", head + "queues: {ids: [queue-one]}\n", 3, 16, "queues.ids[0]", "UUID"},
		{"bad process", head + "arrivals: {process: bursty}\n", 3, 21, "arrivals.process", "poisson or constant"},
		// negative rates and values
		{"negative rate", head + "arrivals: {rate: -2}\n", 3, 18, "arrivals.rate", "negative rate"},
		{"negative rate string", head + "arrivals: {rate: \"-120/min\"}\n", 3, 18, "arrivals.rate", "negative rate"},
		{"negative stage target", head + "arrivals:\n  stages:\n    - {duration: 5s, target: -1}\n", 5, 30, "arrivals.stages[0].target", "negative rate"},
		{"negative limit", head + "limits: {requestsPerSecond: -1}\n", 3, 29, "limits.requestsPerSecond", "negative rate"},
		{"negative endpoint limit", head + "limits:\n  endpoints: {presence: -3}\n", 4, 25, "limits.endpoints.presence", "negative rate"},
		{"negative count", head + "agents: {count: -5}\n", 3, 17, "agents.count", "must not be negative"},
		{"negative duration", "name: x\nduration: -10s\n", 2, 11, "duration", "must not be negative"},
		{"probability above 1", head + "voice: {customerHangsUp: 1.5}\n", 3, 26, "voice.customerHangsUp", "between 0 and 1"},
		{"rate with bad unit", head + "arrivals: {rate: 5/week}\n", 3, 18, "arrivals.rate", "want a rate"},
		// impossible distributions
		{"uniform min above max", head + "voice: {talk: {uniform: [5m, 1m]}}\n", 3, 25, "voice.talk.uniform", "min 5m0s is above max 1m0s"},
		{"exponential zero mean", head + "voice: {talk: {exponential: 0s}}\n", 3, 29, "voice.talk.exponential", "mean must be positive"},
		{"lognormal without stddev", head + "voice: {talk: {lognormal: {mean: 3m}}}\n", 3, 27, "voice.talk.lognormal", "positive stddev"},
		{"cap below mean", head + "voice: {talk: {exponential: 3m, max: 1m}}\n", 3, 29, "voice.talk.exponential", "below the mean"},
		{"two families", head + "voice: {talk: {fixed: 1m, exponential: 3m}}\n", 3, 40, "voice.talk.exponential", "one family"},
		{"no family", head + "voice: {talk: {max: 3m}}\n", 3, 15, "voice.talk", "want one of fixed"},
		{"uniform with three values", head + "voice: {talk: {uniform: [1s, 2s, 3s]}}\n", 3, 25, "voice.talk.uniform", "want [min, max]"},
		{"transfers add up above 1", head + "voice:\n  transfers: {queue: 0.6, user: 0.6}\n", 4, 14, "voice.transfers", "add up to 1.2"},
		{"mix all zero", head + "mix: {voice: 0, email: 0}\n", 3, 6, "mix", "both 0"},
		// out-of-range batching
		{"too many events per batch", head + "batching: {maxEvents: 101}\n", 3, 23, "batching.maxEvents", "between 1 and 100"},
		{"zero events per batch", head + "batching: {maxEvents: 0}\n", 3, 23, "batching.maxEvents", "between 1 and 100"},
		{"too many bytes per batch", head + "batching: {maxBytes: 600000}\n", 3, 22, "batching.maxBytes", "between 1024 and 512000"},
		{"backoff max below initial", head + "retry:\n  backoff: {initial: 5s, max: 1s}\n", 4, 12, "retry.backoff.max", "below initial"},
		{"retry attempts zero", head + "retry: {maxAttempts: 0}\n", 3, 22, "retry.maxAttempts", "between 1 and 100"},
		// structure
		{"missing name", "duration: 10s\n", 1, 1, "name", "missing"},
		{"missing duration", "name: x\n", 1, 1, "duration", "missing"},
		{"zero duration", "name: x\nduration: 0s\n", 2, 11, "duration", "must be positive"},
		{"arrivals without agents", head + "agents: {count: 0}\n", 3, 9, "agents.count", "no agents"},
		{"count disagrees with ids", head + "queues: {count: 2, ids: [f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36]}\n", 3, 9, "queues", "disagrees"},
		{"duplicate id", head + "skills: {ids: [f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36, f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36]}\n", 3, 54, "skills.ids[1]", "duplicate id"},
		{"alias", head + "voice: {talk: &t 3m, alerting: *t}\n", 3, 15, "", "anchors and aliases"},
		{"scalar document", "just text\n", 1, 1, "", "want a mapping"},
		{"syntax error", "name: x\n  duration: [\n", 2, 1, "", "YAML syntax"},
		{"two documents", head + "---\nname: y\n", 3, 1, "", "more than one YAML document"},
		{"empty", "", 1, 1, "", "empty scenario"},
		{"thresholds not strings", head + "thresholds: [1, 2]\n", 3, 14, "thresholds[0]", "want a string"},
		{"unknown email transfer kind", head + "email:\n  transfers: {external: 0.1}\n", 4, 15, "email.transfers.external", "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("got no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) is false", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T, want *Error", err)
			}
			if e.File != "test.yaml" || e.Line != tc.line || e.Column != tc.col || e.Path != tc.path {
				t.Errorf("got %s:%d:%d path %q, want test.yaml:%d:%d path %q (%v)", e.File, e.Line, e.Column, e.Path, tc.line, tc.col, tc.path, err)
			}
			if !strings.Contains(e.Msg, tc.msgContain) {
				t.Errorf("message %q does not contain %q", e.Msg, tc.msgContain)
			}
			prefix := "test.yaml:" + strconv.Itoa(tc.line) + ":" + strconv.Itoa(tc.col) + ": "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), prefix)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	s, err := Parse("v.yaml", []byte(`
name: values
seed: -7
duration: 1m30s
timeScale: 2.5
arrivals:
  process: constant
  rate: "120/min"
  stages:
    - {duration: 10s, target: "7200/h"}
voice:
  talk: {lognormal: {mean: 4m, stddev: 2m}, max: 20m}
  alerting: {uniform: {min: 1s, max: 3s}}
  queueWait: {exponential: {mean: 9s}}
limits:
  endpoints: {routingstatus: 2}
retry: {mode: measure}
queues: {ids: [1a7e3c5b-9d2f-4b8a-a6c1-0f4e8d2b7c95]}
thresholds:
  - conversations.p99 < 500ms
  -   events.failed == 0
`))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"seed", s.Seed, int64(-7)},
		{"duration", s.Duration, 90 * time.Second},
		{"timeScale", s.TimeScale, 2.5},
		{"process", s.Arrivals.Process, Constant},
		{"rate", s.Arrivals.Rate, 2.0},
		{"stage", s.Arrivals.Stages, []Stage{{Duration: 10 * time.Second, Target: 2}}},
		{"talk", s.Voice.Talk, Dist{Kind: Lognormal, Mean: 4 * time.Minute, Stddev: 2 * time.Minute, Max: 20 * time.Minute}},
		{"alerting", s.Voice.Alerting, Dist{Kind: Uniform, Min: time.Second, Max: 3 * time.Second}},
		{"queueWait", s.Voice.QueueWait, Dist{Kind: Exponential, Mean: 9 * time.Second}},
		{"endpoint limit", s.Limits.Endpoint, [3]float64{0, 0, 2}},
		{"retry mode", s.Retry.Mode, RetryMeasure},
		{"thresholds", s.Thresholds, []Threshold{{"conversations.p99 < 500ms", 20, 5}, {"events.failed == 0", 21, 7}}},
		{"default batching", s.Batching, Batching{MaxEvents: 100, MaxBytes: 512000, Linger: time.Second}},
		{"queues", s.Queues, IDs{IDs: []string{"1a7e3c5b-9d2f-4b8a-a6c1-0f4e8d2b7c95"}}},
		{"generated source id", s.Source.SourceID, GeneratedID(-7, KindSource, 0)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestIDsFile(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "with-ids-file.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36", "0b6f2d4e-8a1c-4f3e-9d27-4c5a8e1b7f60"}
	if !reflect.DeepEqual(s.Agents.IDs, want) || s.Agents.N() != 2 {
		t.Errorf("got ids %v (N %d), want %v", s.Agents.IDs, s.Agents.N(), want)
	}
	if got := s.Agents.AgentID(s.Seed, 1); got != want[1] {
		t.Errorf("AgentID(1) = %s, want %s", got, want[1])
	}

	file := filepath.Join("testdata", "x.yaml")
	_, err = Parse(file, []byte("name: x\nduration: 1s\nagents: {idsFile: agents-bad.csv}\n"))
	var e *Error
	if !errors.As(err, &e) || e.File != filepath.Join("testdata", "agents-bad.csv") || e.Line != 3 || e.Path != "agents.idsFile" {
		t.Errorf("bad CSV: got %v, want an error at testdata/agents-bad.csv:3 for agents.idsFile", err)
	}
	_, err = Parse(file, []byte("name: x\nduration: 1s\nagents: {idsFile: missing.csv}\n"))
	if !errors.As(err, &e) || e.Line != 3 || e.Column != 19 || !strings.Contains(e.Msg, "cannot read") {
		t.Errorf("missing CSV: got %v, want x.yaml:3:19 cannot read", err)
	}
}

func TestHash(t *testing.T) {
	a := Default()
	b := Default()
	if a.Hash() != b.Hash() || !strings.HasPrefix(a.Hash(), "sha256:") || len(a.Hash()) != len("sha256:")+64 {
		t.Fatalf("Hash not stable or malformed: %s vs %s", a.Hash(), b.Hash())
	}
	data, err := os.ReadFile(DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	// Comments and formatting do not change the hash; the file name does not either.
	c, err := Parse("elsewhere.yaml", append([]byte("# a comment\n\n"), data...))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash() != a.Hash() {
		t.Errorf("comment changed the hash: %s vs %s", c.Hash(), a.Hash())
	}
	b.Seed++
	if b.Hash() == a.Hash() {
		t.Error("a different seed gives the same hash")
	}
}

func TestArrivals(t *testing.T) {
	a := Arrivals{Rate: 1, Stages: []Stage{{10 * time.Second, 3}, {10 * time.Second, 3}, {10 * time.Second, 0}}}
	tests := []struct {
		at   time.Duration
		want float64
	}{{0, 1}, {5 * time.Second, 2}, {10 * time.Second, 3}, {15 * time.Second, 3}, {25 * time.Second, 1.5}, {time.Minute, 0}}
	for _, tc := range tests {
		if got := a.RateAt(tc.at); got != tc.want {
			t.Errorf("RateAt(%s) = %g, want %g", tc.at, got, tc.want)
		}
	}
	// 10 s ramp 1→3 (20) + 10 s at 3 (30) + 10 s ramp 3→0 (15).
	if got := a.Expected(30 * time.Second); got != 65 {
		t.Errorf("Expected(30s) = %g, want 65", got)
	}
	if got := a.Expected(5 * time.Second); got != 7.5 {
		t.Errorf("Expected(5s) = %g, want 7.5", got)
	}
	if got := a.MaxRate(); got != 3 {
		t.Errorf("MaxRate = %g, want 3", got)
	}
}

func TestPlanWarnings(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"fits", "arrivals: {rate: 0.2}\n", nil},
		{"above the platform", "arrivals: {rate: 50}\nbatching: {linger: 0s}\nlimits: {requestsPerSecond: 0}\n",
			[]string{"above the platform's 300 requests/min"}},
		{"above own limits", "arrivals: {rate: 3}\nbatching: {linger: 0s}\nlimits: {requestsPerSecond: 2, eventsPerSecond: 1, endpoints: {conversations: 1}}\n",
			[]string{"above the platform", "limits.requestsPerSecond is 2", "limits.endpoints.conversations is 1", "limits.eventsPerSecond is 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("w.yaml", []byte("name: w\nduration: 1m\nagents: {count: 100}\n"+tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			p := s.Plan()
			if len(p.Warnings) != len(tc.want) {
				t.Fatalf("got warnings %q, want %d matching %q", p.Warnings, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(p.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, p.Warnings[i], w)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	names, _ := filepath.Glob("*.yaml")
	more, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range append(names, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nduration: 1s\nvoice: {talk: {uniform: [2s, 1s]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s1, err1 := Parse("fuzz.yaml", data)
		s2, err2 := Parse("fuzz.yaml", data)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Parse is not deterministic: %v vs %v", err1, err2)
		}
		if err1 != nil {
			if err1.Error() != err2.Error() {
				t.Fatalf("errors differ: %v vs %v", err1, err2)
			}
			var e *Error
			if errors.As(err1, &e) && (e.Line < 1 || e.Column < 1) {
				t.Fatalf("error without a position: %v", err1)
			}
			return
		}
		if !reflect.DeepEqual(s1, s2) || s1.Hash() != s2.Hash() {
			t.Fatal("Parse of a valid input is not deterministic")
		}
		if s1.Name == "" || s1.Duration <= 0 || s1.TimeScale <= 0 || s1.Batching.MaxEvents > 100 {
			t.Fatalf("invalid scenario accepted: %+v", s1)
		}
		_ = s1.Plan() // must not panic on any valid scenario
	})
}
