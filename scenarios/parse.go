package scenarios

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/loadgen/loadgen/internal/events"
)

// ErrInvalid is wrapped by every *Error: the scenario is not valid.
var ErrInvalid = errors.New("invalid scenario")

// Error is a problem at one place of a scenario file. Error() has the form
// "file:line:col: path: msg"; errors.Is(err, ErrInvalid) holds.
type Error struct {
	File         string
	Line, Column int
	// Path is the key path of the offending value, e.g. agents.count or
	// voice.transfers.queue; empty for syntax errors.
	Path string
	Msg  string
}

// Error returns "file:line:col: path: msg" (without "path: " when the
// problem has no key path, such as a YAML syntax error).
func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Path, e.Msg)
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

//go:embed *.yaml
var files embed.FS

// DefaultFile is the name of the embedded default scenario.
const DefaultFile = "default.yaml"

// Default returns the embedded default scenario (default.yaml), parsed. It
// is a small 30 s run on all three endpoints that fits the platform's 300
// requests per minute per token. Each call returns a fresh copy.
func Default() *Scenario {
	s, err := Embedded(DefaultFile)
	if err != nil {
		// default.yaml is compiled in and covered by tests; failing here
		// means the binary itself is broken, so return a usable minimum
		// instead of panicking in a library.
		s = defaults()
		s.Name, s.File, s.Duration = "default", DefaultFile, 30*time.Second
	}
	return s
}

// Embedded parses one of the scenario files shipped in the binary, by
// name (e.g. "all-events.yaml").
func Embedded(name string) (*Scenario, error) {
	data, err := EmbeddedSource(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// EmbeddedSource returns the text of a shipped scenario file, e.g. to
// print the built-in scenario as a starting point for one's own.
func EmbeddedSource(name string) ([]byte, error) {
	data, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("scenarios: embedded %s: %w", name, err)
	}
	return data, nil
}

// EmbeddedNames lists the shipped scenario files, sorted.
func EmbeddedNames() []string {
	ents, _ := files.ReadDir(".")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// Load reads and parses the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a scenario. file names the source in errors
// and is the base for relative paths inside the scenario (agents.idsFile).
// Any problem is an *Error wrapping ErrInvalid; errors from reading an ids
// file wrap the underlying error as well.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Line: 1, Column: 1, Msg: "empty scenario"}
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, syntaxError(file, err)
		}
		return nil, &Error{File: file, Line: line, Column: 1, Msg: "more than one YAML document"}
	}
	if len(doc.Content) != 1 {
		return nil, &Error{File: file, Line: 1, Column: 1, Msg: "empty scenario"}
	}
	root := doc.Content[0]
	d.noAliases(root)
	s := defaults()
	s.File = file
	d.scenario(root, s)
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 error ("yaml: line 3: …") into an *Error.
func syntaxError(file string, err error) error {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: file, Line: line, Column: 1, Msg: "YAML syntax: " + msg}
}

// defaults returns the values that keys left out of a scenario take.
func defaults() *Scenario {
	return &Scenario{
		Seed:      1,
		TimeScale: 1,
		Source:    Source{InteractionPrefix: "LG-"},
		Agents: Agents{
			Count:  10,
			Breaks: Breaks{Length: FixedDist(15 * time.Minute)},
			Presence: Presence{
				OnQueue: "e08eaf1b-ee47-4fa9-a231-1200e284798f",
				Break:   "227b37e2-f1d0-4dd0-8f50-badd7cf6d158",
				Offline: "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
			},
			NotResponding: NotResponding{Timeout: FixedDist(15 * time.Second), Recovery: FixedDist(10 * time.Second)},
		},
		Queues:      IDs{Count: 3},
		Skills:      IDs{Count: 4},
		Languages:   IDs{Count: 2},
		WrapUpCodes: IDs{Count: 5},
		Stations:    IDs{Count: 0},
		Arrivals: Arrivals{
			Process: Poisson,
			Rate:    1,
		},
		Mix: Mix{Voice: 1},
		Voice: Voice{
			QueueWait:       FixedDist(2 * time.Second),
			Alerting:        Dist{Kind: Uniform, Min: 2 * time.Second, Max: 8 * time.Second},
			Talk:            Dist{Kind: Lognormal, Mean: 4 * time.Minute, Stddev: 2 * time.Minute},
			Abandon:         Step{Duration: Dist{Kind: Exponential, Mean: 90 * time.Second}},
			IVR:             Step{Duration: Dist{Kind: Uniform, Min: 10 * time.Second, Max: 40 * time.Second}},
			Hold:            Step{Duration: Dist{Kind: Uniform, Min: 10 * time.Second, Max: 60 * time.Second}},
			Mute:            Step{Duration: FixedDist(10 * time.Second)},
			Transfers:       Transfers{Max: 2},
			CustomerHangsUp: 0.6,
			Wrapup: Wrapup{Probability: 1, Duration: Dist{Kind: Uniform, Min: 10 * time.Second, Max: 40 * time.Second},
				CodeProbability: 0.9},
		},
		Email: Email{
			QueueWait: FixedDist(5 * time.Second),
			Alerting:  Dist{Kind: Uniform, Min: 2 * time.Second, Max: 10 * time.Second},
			Handle:    Dist{Kind: Lognormal, Mean: 6 * time.Minute, Stddev: 3 * time.Minute},
			Flow:      Step{Duration: FixedDist(2 * time.Second)},
			Reply:     Step{Probability: 1, Duration: FixedDist(3 * time.Second)},
			Hold:      Step{Duration: FixedDist(30 * time.Second)},
			Transfers: Transfers{Max: 1},
			FollowUp:  Step{Duration: FixedDist(time.Hour)},
			Wrapup: Wrapup{Probability: 1, Duration: Dist{Kind: Uniform, Min: 10 * time.Second, Max: 60 * time.Second},
				CodeProbability: 0.9},
		},
		Batching: Batching{MaxEvents: events.MaxEventsPerRequest, MaxBytes: events.MaxRequestBytes, Linger: time.Second},
		Limits:   Limits{RequestsPerSecond: 5, InFlight: 8},
		Retry: Retry{Mode: RetryClient, MaxAttempts: 4,
			Backoff: Backoff{Initial: 250 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.2},
			Budget:  0.2},
	}
}

// decoder walks the YAML node tree. It keeps the first error only.
type decoder struct {
	file string
	err  *Error
}

func (d *decoder) failf(n *yaml.Node, path, format string, args ...any) {
	if d.err != nil {
		return
	}
	e := &Error{File: d.file, Line: 1, Column: 1, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil && n.Line > 0 {
		e.Line, e.Column = n.Line, n.Column
	}
	d.err = e
}

// noAliases rejects anchors and aliases: they make positions ambiguous and
// can blow up a document's size.
func (d *decoder) noAliases(n *yaml.Node) {
	if d.err != nil {
		return
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.failf(n, "", "YAML anchors and aliases are not supported")
		return
	}
	for _, c := range n.Content {
		d.noAliases(c)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		case "!!null":
			return "nothing (null)"
		}
		return "scalar " + n.Value
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fields maps the keys of one mapping to their decoders.
type fields map[string]func(n *yaml.Node, path string)

// forbidden are keys people may expect in a scenario but that must come
// from flags and the environment.
var forbidden = []string{"target", "login", "region", "clientId", "clientSecret", "credentials", "token", "accessToken"}

func (d *decoder) object(n *yaml.Node, path string, fs fields) {
	if d.err != nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.failf(n, path, "want a mapping, got %s", describe(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.failf(k, path, "want a key name, got %s", describe(k))
			return
		}
		p := join(path, k.Value)
		if seen[k.Value] {
			d.failf(k, p, "duplicate key")
			return
		}
		seen[k.Value] = true
		f, ok := fs[k.Value]
		if !ok {
			if slices.Contains(forbidden, k.Value) {
				d.failf(k, p, "the target and credentials come from flags and the environment, never from a scenario")
				return
			}
			keys := make([]string, 0, len(fs))
			for key := range fs {
				keys = append(keys, key)
			}
			slices.Sort(keys)
			d.failf(k, p, "unknown key %q (want one of: %s)", k.Value, strings.Join(keys, ", "))
			return
		}
		f(v, p)
		if d.err != nil {
			return
		}
	}
}

func (d *decoder) scalar(n *yaml.Node, path, want string, tags ...string) bool {
	if d.err != nil {
		return false
	}
	if n.Kind == yaml.ScalarNode && slices.Contains(tags, n.ShortTag()) {
		return true
	}
	d.failf(n, path, "want %s, got %s", want, describe(n))
	return false
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if !d.scalar(n, path, "a string", "!!str") {
		return ""
	}
	return n.Value
}

func (d *decoder) nonEmpty(n *yaml.Node, path string) string {
	s := d.str(n, path)
	if d.err == nil && strings.TrimSpace(s) == "" {
		d.failf(n, path, "must not be empty")
	}
	return s
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (d *decoder) uuid(n *yaml.Node, path string) string {
	s := d.str(n, path)
	if d.err == nil && !uuidRE.MatchString(s) {
		d.failf(n, path, "want a lower-case UUID such as 6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b13, got %q", s)
	}
	return s
}

func (d *decoder) integer(n *yaml.Node, path string, lo, hi int64) int64 {
	if !d.scalar(n, path, "an integer", "!!int") {
		return 0
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil {
		d.failf(n, path, "want an integer, got %q", n.Value)
		return 0
	}
	if v < lo || v > hi {
		if v < 0 && lo >= 0 {
			d.failf(n, path, "must not be negative, got %d", v)
		} else {
			d.failf(n, path, "must be between %d and %d, got %d", lo, hi, v)
		}
		return 0
	}
	return v
}

func (d *decoder) number(n *yaml.Node, path string) float64 {
	if !d.scalar(n, path, "a number", "!!int", "!!float") {
		return 0
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.failf(n, path, "want a finite number, got %q", n.Value)
		return 0
	}
	return v
}

func (d *decoder) nonNegative(n *yaml.Node, path string) float64 {
	v := d.number(n, path)
	if d.err == nil && v < 0 {
		d.failf(n, path, "must not be negative, got %s", n.Value)
	}
	return v
}

func (d *decoder) probability(n *yaml.Node, path string) float64 {
	v := d.number(n, path)
	if d.err == nil && (v < 0 || v > 1) {
		d.failf(n, path, "probability must be between 0 and 1, got %s", n.Value)
	}
	return v
}

func (d *decoder) duration(n *yaml.Node, path string) time.Duration {
	if !d.scalar(n, path, `a duration such as "30s" or "5m"`, "!!str", "!!int") {
		return 0
	}
	if n.ShortTag() == "!!int" {
		if n.Value == "0" {
			return 0
		}
		d.failf(n, path, `want a duration with a unit such as "30s", got %s`, n.Value)
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.failf(n, path, `want a duration such as "30s" or "5m", got %q`, n.Value)
		return 0
	}
	if v < 0 {
		d.failf(n, path, "duration must not be negative, got %s", n.Value)
		return 0
	}
	return v
}

func (d *decoder) positiveDuration(n *yaml.Node, path string) time.Duration {
	v := d.duration(n, path)
	if d.err == nil && v <= 0 {
		d.failf(n, path, "duration must be positive")
	}
	return v
}

// maxRate bounds every rate: far beyond what one generator can send, and
// it keeps the arithmetic of the simulation finite.
const maxRate = 1e6

// rate reads a rate per second: a number, or a string "N/s", "N/min", "N/h".
func (d *decoder) rate(n *yaml.Node, path string) float64 {
	if !d.scalar(n, path, `a rate such as 2, "120/min" or "7200/h"`, "!!int", "!!float", "!!str") {
		return 0
	}
	var v float64
	if n.ShortTag() == "!!str" {
		num, unit, ok := strings.Cut(strings.ReplaceAll(n.Value, " ", ""), "/")
		div := map[string]float64{"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}[unit]
		f, err := strconv.ParseFloat(num, 64)
		if !ok || div == 0 || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.failf(n, path, `want a rate such as 2, "120/min" or "7200/h", got %q`, n.Value)
			return 0
		}
		v = f / div
	} else {
		v = d.number(n, path)
	}
	switch {
	case d.err != nil:
	case v < 0:
		d.failf(n, path, "negative rate %s", n.Value)
	case v > maxRate:
		d.failf(n, path, "rate %s is above the maximum of 1000000/s", n.Value)
	}
	return v
}

func (d *decoder) list(n *yaml.Node, path string, item func(n *yaml.Node, path string)) {
	if d.err != nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.failf(n, path, "want a list, got %s", describe(n))
		return
	}
	for i, c := range n.Content {
		item(c, fmt.Sprintf("%s[%d]", path, i))
		if d.err != nil {
			return
		}
	}
}

func (d *decoder) strs(n *yaml.Node, path string) []string {
	var out []string
	d.list(n, path, func(c *yaml.Node, p string) { out = append(out, d.nonEmpty(c, p)) })
	return out
}

func (d *decoder) uuids(n *yaml.Node, path string) []string {
	var out []string
	seen := map[string]bool{}
	d.list(n, path, func(c *yaml.Node, p string) {
		u := d.uuid(c, p)
		if d.err == nil && seen[u] {
			d.failf(c, p, "duplicate id %s", u)
		}
		seen[u] = true
		out = append(out, u)
	})
	return out
}

// dist reads a duration distribution: "30s" (fixed) or a mapping with one
// family key and an optional max.
func (d *decoder) dist(n *yaml.Node, path string) Dist {
	if d.err != nil {
		return Dist{}
	}
	if n.Kind == yaml.ScalarNode {
		return FixedDist(d.duration(n, path))
	}
	var out Dist
	family := ""
	var famNode *yaml.Node
	set := func(name string, f func(n *yaml.Node, p string)) func(n *yaml.Node, p string) {
		return func(v *yaml.Node, p string) {
			if family != "" {
				d.failf(v, p, "a distribution has one family, got both %s and %s", family, name)
				return
			}
			family, famNode = name, v
			f(v, p)
		}
	}
	d.object(n, path, fields{
		"fixed": set("fixed", func(v *yaml.Node, p string) { out = FixedDist(d.duration(v, p)) }),
		"uniform": set("uniform", func(v *yaml.Node, p string) {
			out.Kind = Uniform
			if v.Kind == yaml.SequenceNode {
				if len(v.Content) != 2 {
					d.failf(v, p, "want [min, max], got %d values", len(v.Content))
					return
				}
				out.Min = d.duration(v.Content[0], p+"[0]")
				out.Max = d.duration(v.Content[1], p+"[1]")
				return
			}
			d.object(v, p, fields{
				"min": func(v *yaml.Node, p string) { out.Min = d.duration(v, p) },
				"max": func(v *yaml.Node, p string) { out.Max = d.duration(v, p) },
			})
		}),
		"exponential": set("exponential", func(v *yaml.Node, p string) {
			out.Kind = Exponential
			if v.Kind == yaml.ScalarNode {
				out.Mean = d.duration(v, p)
				return
			}
			d.object(v, p, fields{"mean": func(v *yaml.Node, p string) { out.Mean = d.duration(v, p) }})
		}),
		"lognormal": set("lognormal", func(v *yaml.Node, p string) {
			out.Kind = Lognormal
			d.object(v, p, fields{
				"mean":   func(v *yaml.Node, p string) { out.Mean = d.duration(v, p) },
				"stddev": func(v *yaml.Node, p string) { out.Stddev = d.duration(v, p) },
			})
		}),
		"max": func(v *yaml.Node, p string) {
			if family == "uniform" {
				d.failf(v, p, "uniform takes its max inside [min, max]")
				return
			}
			out.Max = d.duration(v, p)
			if out.Max == 0 && d.err == nil {
				d.failf(v, p, "a cap must be positive")
			}
		},
	})
	if d.err != nil {
		return out
	}
	switch {
	case family == "":
		d.failf(n, path, "want one of fixed, uniform, exponential, lognormal")
	case out.Kind == Uniform && out.Min > out.Max:
		d.failf(famNode, path+"."+family, "impossible distribution: min %s is above max %s", out.Min, out.Max)
	case (out.Kind == Exponential || out.Kind == Lognormal) && out.Mean <= 0:
		d.failf(famNode, path+"."+family, "impossible distribution: the mean must be positive")
	case out.Kind == Lognormal && out.Stddev <= 0:
		d.failf(famNode, path+"."+family, "impossible distribution: a lognormal needs a positive stddev (use fixed for none)")
	case (out.Kind == Exponential || out.Kind == Lognormal) && out.Max > 0 && out.Max < out.Mean:
		d.failf(famNode, path+"."+family, "impossible distribution: the cap max %s is below the mean %s", out.Max, out.Mean)
	}
	return out
}

func (d *decoder) step(n *yaml.Node, path, durKey string, s *Step) {
	d.object(n, path, fields{
		"probability": func(v *yaml.Node, p string) { s.Probability = d.probability(v, p) },
		durKey:        func(v *yaml.Node, p string) { s.Duration = d.dist(v, p) },
	})
}

func (d *decoder) ids(n *yaml.Node, path string, out *IDs) {
	var countNode *yaml.Node
	d.object(n, path, fields{
		"count": func(v *yaml.Node, p string) { countNode = v; out.Count = int(d.integer(v, p, 0, 100_000)) },
		"ids":   func(v *yaml.Node, p string) { out.IDs = d.uuids(v, p) },
	})
	if d.err != nil || len(out.IDs) == 0 {
		return
	}
	if countNode != nil && out.Count != len(out.IDs) {
		d.failf(n, path, "count %d disagrees with the %d ids given (give one or the other)", out.Count, len(out.IDs))
		return
	}
	out.Count = 0 // the ids rule; a default count must not linger
}

func (d *decoder) scenario(n *yaml.Node, s *Scenario) {
	var haveName, haveDuration bool
	var agentsNode, arrivalsNode *yaml.Node
	d.object(n, "", fields{
		"name":        func(v *yaml.Node, p string) { s.Name, haveName = d.nonEmpty(v, p), true },
		"description": func(v *yaml.Node, p string) { s.Description = d.str(v, p) },
		"seed":        func(v *yaml.Node, p string) { s.Seed = d.integer(v, p, math.MinInt64, math.MaxInt64) },
		"duration": func(v *yaml.Node, p string) {
			s.Duration, haveDuration = d.positiveDuration(v, p), true
		},
		"timeScale": func(v *yaml.Node, p string) {
			s.TimeScale = d.number(v, p)
			if d.err == nil && (s.TimeScale <= 0 || s.TimeScale > 1e6) {
				d.failf(v, p, "must be above 0 and at most 1000000, got %s", v.Value)
			}
		},
		"source": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"sourceId":          func(v *yaml.Node, p string) { s.Source.SourceID = d.uuid(v, p) },
				"interactionPrefix": func(v *yaml.Node, p string) { s.Source.InteractionPrefix = d.str(v, p) },
			})
		},
		"agents":      func(v *yaml.Node, p string) { agentsNode = v; d.agents(v, p, &s.Agents) },
		"queues":      func(v *yaml.Node, p string) { d.ids(v, p, &s.Queues) },
		"skills":      func(v *yaml.Node, p string) { d.ids(v, p, &s.Skills) },
		"languages":   func(v *yaml.Node, p string) { d.ids(v, p, &s.Languages) },
		"wrapUpCodes": func(v *yaml.Node, p string) { d.ids(v, p, &s.WrapUpCodes) },
		"stations":    func(v *yaml.Node, p string) { d.ids(v, p, &s.Stations) },
		"routing": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"skillsProbability":   func(v *yaml.Node, p string) { s.Routing.SkillsProbability = d.probability(v, p) },
				"languageProbability": func(v *yaml.Node, p string) { s.Routing.LanguageProbability = d.probability(v, p) },
			})
		},
		"arrivals": func(v *yaml.Node, p string) { arrivalsNode = v; d.arrivals(v, p, &s.Arrivals) },
		"mix": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"voice": func(v *yaml.Node, p string) { s.Mix.Voice = d.nonNegative(v, p) },
				"email": func(v *yaml.Node, p string) { s.Mix.Email = d.nonNegative(v, p) },
			})
			if d.err == nil && s.Mix.Voice+s.Mix.Email == 0 {
				d.failf(v, p, "voice and email weights are both 0")
			}
		},
		"voice":      func(v *yaml.Node, p string) { d.voice(v, p, &s.Voice) },
		"email":      func(v *yaml.Node, p string) { d.email(v, p, &s.Email) },
		"batching":   func(v *yaml.Node, p string) { d.batching(v, p, &s.Batching) },
		"limits":     func(v *yaml.Node, p string) { d.limits(v, p, &s.Limits) },
		"retry":      func(v *yaml.Node, p string) { d.retry(v, p, &s.Retry) },
		"thresholds": func(v *yaml.Node, p string) { d.thresholds(v, p, s) },
		"faults": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"invalidEvents": func(v *yaml.Node, p string) { s.Faults.InvalidEvents = int(d.integer(v, p, 0, math.MaxInt32)) },
				"invalidRate":   func(v *yaml.Node, p string) { s.Faults.InvalidRate = d.probability(v, p) },
			})
		},
	})
	if d.err != nil {
		return
	}
	switch {
	case !haveName:
		d.failf(n, "name", "missing: every scenario has a name")
	case !haveDuration:
		d.failf(n, "duration", `missing: say how long the run lasts, e.g. duration: 30s`)
	case s.Arrivals.MaxRate() > 0 && s.Agents.N() == 0:
		at := agentsNode
		if at == nil {
			at = arrivalsNode
		}
		d.failf(at, "agents.count", "conversations arrive but there are no agents to take them")
	case s.Queues.N() == 0 && s.Arrivals.MaxRate() > 0:
		d.failf(n, "queues.count", "conversations arrive but there are no queues")
	}
	if d.err != nil {
		return
	}
	if s.Source.SourceID == "" {
		s.Source.SourceID = GeneratedID(s.Seed, KindSource, 0)
		s.Source.generated = true
	}
}

func (d *decoder) agents(n *yaml.Node, path string, a *Agents) {
	var idsNode, fileNode, countNode *yaml.Node
	d.object(n, path, fields{
		"count":       func(v *yaml.Node, p string) { countNode = v; a.Count = int(d.integer(v, p, 0, 1_000_000)) },
		"ids":         func(v *yaml.Node, p string) { idsNode = v; a.IDs = d.uuids(v, p) },
		"idsFile":     func(v *yaml.Node, p string) { fileNode = v; a.IDsFile = d.nonEmpty(v, p) },
		"loginSpread": func(v *yaml.Node, p string) { a.LoginSpread = d.duration(v, p) },
		"shift":       func(v *yaml.Node, p string) { a.Shift = d.duration(v, p) },
		"breaks": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"every":  func(v *yaml.Node, p string) { a.Breaks.Every = d.dist(v, p) },
				"length": func(v *yaml.Node, p string) { a.Breaks.Length = d.dist(v, p) },
			})
		},
		"presence": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"onQueue": func(v *yaml.Node, p string) { a.Presence.OnQueue = d.uuid(v, p) },
				"break":   func(v *yaml.Node, p string) { a.Presence.Break = d.uuid(v, p) },
				"offline": func(v *yaml.Node, p string) { a.Presence.Offline = d.uuid(v, p) },
			})
		},
		"notResponding": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"probability": func(v *yaml.Node, p string) { a.NotResponding.Probability = d.probability(v, p) },
				"timeout":     func(v *yaml.Node, p string) { a.NotResponding.Timeout = d.dist(v, p) },
				"recovery":    func(v *yaml.Node, p string) { a.NotResponding.Recovery = d.dist(v, p) },
			})
		},
	})
	if d.err != nil {
		return
	}
	if idsNode != nil && fileNode != nil {
		d.failf(fileNode, join(path, "idsFile"), "give ids or idsFile, not both")
		return
	}
	if fileNode != nil {
		a.IDs = d.idsFile(fileNode, join(path, "idsFile"), a.IDsFile)
		if d.err != nil {
			return
		}
	}
	if len(a.IDs) > 0 {
		if countNode != nil && a.Count != len(a.IDs) {
			d.failf(countNode, join(path, "count"), "count %d disagrees with the %d ids given (give one or the other)", a.Count, len(a.IDs))
		}
		a.Count = 0
	}
}

// idsFile reads user ids from a CSV file: the first column of each row; a
// first row that is not a UUID is a header.
func (d *decoder) idsFile(n *yaml.Node, path, name string) []string {
	full := name
	if !filepath.IsAbs(full) {
		full = filepath.Join(filepath.Dir(d.file), name)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		d.failf(n, path, "cannot read agent ids: %v", err)
		return nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var out []string
	seen := map[string]bool{}
	for row := 0; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			d.err = &Error{File: full, Line: line, Column: 1, Path: path, Msg: "CSV: " + err.Error()}
			return nil
		}
		id := strings.TrimSpace(rec[0])
		if !uuidRE.MatchString(id) {
			if row == 0 {
				continue // header
			}
			d.err = &Error{File: full, Line: line, Column: 1, Path: path, Msg: fmt.Sprintf("want a lower-case user UUID in the first column, got %q", id)}
			return nil
		}
		if seen[id] {
			d.err = &Error{File: full, Line: line, Column: 1, Path: path, Msg: "duplicate user id " + id}
			return nil
		}
		seen[id] = true
		out = append(out, id)
	}
	if len(out) == 0 {
		d.failf(n, path, "%s holds no user ids", name)
	}
	return out
}

func (d *decoder) arrivals(n *yaml.Node, path string, a *Arrivals) {
	d.object(n, path, fields{
		"process": func(v *yaml.Node, p string) {
			switch s := d.str(v, p); s {
			case "poisson":
				a.Process = Poisson
			case "constant":
				a.Process = Constant
			default:
				if d.err == nil {
					d.failf(v, p, "want poisson or constant, got %q", s)
				}
			}
		},
		"rate": func(v *yaml.Node, p string) { a.Rate = d.rate(v, p) },
		"stages": func(v *yaml.Node, p string) {
			d.list(v, p, func(v *yaml.Node, p string) {
				var st Stage
				var haveDur, haveTarget bool
				d.object(v, p, fields{
					"duration": func(v *yaml.Node, p string) { st.Duration, haveDur = d.positiveDuration(v, p), true },
					"target":   func(v *yaml.Node, p string) { st.Target, haveTarget = d.rate(v, p), true },
				})
				if d.err == nil && (!haveDur || !haveTarget) {
					d.failf(v, p, "a stage needs both duration and target")
				}
				a.Stages = append(a.Stages, st)
			})
		},
	})
}

func (d *decoder) transfers(n *yaml.Node, path string, t *Transfers, email bool) {
	fs := fields{
		"queue": func(v *yaml.Node, p string) { t.Queue = d.probability(v, p) },
		"user":  func(v *yaml.Node, p string) { t.User = d.probability(v, p) },
		"max":   func(v *yaml.Node, p string) { t.Max = int(d.integer(v, p, 0, 20)) },
	}
	if !email {
		fs["external"] = func(v *yaml.Node, p string) { t.External = d.probability(v, p) }
		fs["consult"] = func(v *yaml.Node, p string) { t.Consult = d.probability(v, p) }
	}
	d.object(n, path, fs)
	if d.err == nil && t.Sum() > 1+1e-9 {
		d.failf(n, path, "impossible distribution: transfer probabilities add up to %.3g, above 1", t.Sum())
	}
}

func (d *decoder) wrapup(n *yaml.Node, path string, w *Wrapup) {
	d.object(n, path, fields{
		"probability":      func(v *yaml.Node, p string) { w.Probability = d.probability(v, p) },
		"duration":         func(v *yaml.Node, p string) { w.Duration = d.dist(v, p) },
		"codeProbability":  func(v *yaml.Node, p string) { w.CodeProbability = d.probability(v, p) },
		"notesProbability": func(v *yaml.Node, p string) { w.NotesProbability = d.probability(v, p) },
		"tags":             func(v *yaml.Node, p string) { w.Tags = d.strs(v, p) },
	})
}

func (d *decoder) voice(n *yaml.Node, path string, vo *Voice) {
	d.object(n, path, fields{
		"ivr":             func(v *yaml.Node, p string) { d.step(v, p, "duration", &vo.IVR) },
		"queueWait":       func(v *yaml.Node, p string) { vo.QueueWait = d.dist(v, p) },
		"abandon":         func(v *yaml.Node, p string) { d.step(v, p, "after", &vo.Abandon) },
		"alerting":        func(v *yaml.Node, p string) { vo.Alerting = d.dist(v, p) },
		"talk":            func(v *yaml.Node, p string) { vo.Talk = d.dist(v, p) },
		"hold":            func(v *yaml.Node, p string) { d.step(v, p, "duration", &vo.Hold) },
		"mute":            func(v *yaml.Node, p string) { d.step(v, p, "duration", &vo.Mute) },
		"transfers":       func(v *yaml.Node, p string) { d.transfers(v, p, &vo.Transfers, false) },
		"externalNumbers": func(v *yaml.Node, p string) { vo.ExternalNumbers = d.strs(v, p) },
		"customerHangsUp": func(v *yaml.Node, p string) { vo.CustomerHangsUp = d.probability(v, p) },
		"wrapup":          func(v *yaml.Node, p string) { d.wrapup(v, p, &vo.Wrapup) },
		"ani":             func(v *yaml.Node, p string) { vo.ANIs = d.strs(v, p) },
		"dnis":            func(v *yaml.Node, p string) { vo.DNISs = d.strs(v, p) },
	})
}

func (d *decoder) email(n *yaml.Node, path string, e *Email) {
	d.object(n, path, fields{
		"flow":      func(v *yaml.Node, p string) { d.step(v, p, "duration", &e.Flow) },
		"queueWait": func(v *yaml.Node, p string) { e.QueueWait = d.dist(v, p) },
		"alerting":  func(v *yaml.Node, p string) { e.Alerting = d.dist(v, p) },
		"handle":    func(v *yaml.Node, p string) { e.Handle = d.dist(v, p) },
		"reply":     func(v *yaml.Node, p string) { d.step(v, p, "transmit", &e.Reply) },
		"hold":      func(v *yaml.Node, p string) { d.step(v, p, "duration", &e.Hold) },
		"transfers": func(v *yaml.Node, p string) { d.transfers(v, p, &e.Transfers, true) },
		"followUp":  func(v *yaml.Node, p string) { d.step(v, p, "after", &e.FollowUp) },
		"wrapup":    func(v *yaml.Node, p string) { d.wrapup(v, p, &e.Wrapup) },
		"to":        func(v *yaml.Node, p string) { e.To = d.strs(v, p) },
		"subjects":  func(v *yaml.Node, p string) { e.Subjects = d.strs(v, p) },
	})
}

func (d *decoder) batching(n *yaml.Node, path string, b *Batching) {
	d.object(n, path, fields{
		"maxEvents": func(v *yaml.Node, p string) {
			b.MaxEvents = int(d.integer(v, p, 1, events.MaxEventsPerRequest))
		},
		"maxBytes": func(v *yaml.Node, p string) {
			b.MaxBytes = int(d.integer(v, p, 1024, events.MaxRequestBytes))
		},
		"linger": func(v *yaml.Node, p string) { b.Linger = d.duration(v, p) },
	})
}

func (d *decoder) limits(n *yaml.Node, path string, l *Limits) {
	d.object(n, path, fields{
		"requestsPerSecond": func(v *yaml.Node, p string) { l.RequestsPerSecond = d.rate(v, p) },
		"eventsPerSecond":   func(v *yaml.Node, p string) { l.EventsPerSecond = d.rate(v, p) },
		"inFlight":          func(v *yaml.Node, p string) { l.InFlight = int(d.integer(v, p, 0, 100_000)) },
		"endpoints": func(v *yaml.Node, p string) {
			fs := fields{}
			for _, ep := range events.Endpoints() {
				fs[ep.String()] = func(v *yaml.Node, p string) { l.Endpoint[ep] = d.rate(v, p) }
			}
			d.object(v, p, fs)
		},
	})
}

func (d *decoder) retry(n *yaml.Node, path string, r *Retry) {
	d.object(n, path, fields{
		"mode": func(v *yaml.Node, p string) {
			switch s := d.str(v, p); s {
			case "client":
				r.Mode = RetryClient
			case "measure":
				r.Mode = RetryMeasure
			default:
				if d.err == nil {
					d.failf(v, p, "want client or measure, got %q", s)
				}
			}
		},
		"maxAttempts": func(v *yaml.Node, p string) { r.MaxAttempts = int(d.integer(v, p, 1, 100)) },
		"budget":      func(v *yaml.Node, p string) { r.Budget = d.nonNegative(v, p) },
		"backoff": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"initial": func(v *yaml.Node, p string) { r.Backoff.Initial = d.duration(v, p) },
				"max":     func(v *yaml.Node, p string) { r.Backoff.Max = d.duration(v, p) },
				"multiplier": func(v *yaml.Node, p string) {
					r.Backoff.Multiplier = d.number(v, p)
					if d.err == nil && r.Backoff.Multiplier < 1 {
						d.failf(v, p, "must be at least 1, got %s", v.Value)
					}
				},
				"jitter": func(v *yaml.Node, p string) { r.Backoff.Jitter = d.probability(v, p) },
			})
			if d.err == nil && r.Backoff.Max < r.Backoff.Initial {
				d.failf(v, p+".max", "max %s is below initial %s", r.Backoff.Max, r.Backoff.Initial)
			}
		},
	})
}

func (d *decoder) thresholds(n *yaml.Node, path string, s *Scenario) {
	d.list(n, path, func(v *yaml.Node, p string) {
		expr := d.nonEmpty(v, p)
		s.Thresholds = append(s.Thresholds, Threshold{Expr: expr, Line: v.Line, Column: v.Column})
	})
}
