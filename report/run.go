package report

import (
	"time"
)

// SchemaVersion is the run.json schema this package writes and the newest
// it reads.
const SchemaVersion = 1

// StopReason says why a run ended.
type StopReason string

// Stop reasons, as run.json spells them.
const (
	StopCompleted   StopReason = "completed"   // the scenario ran to its end
	StopInterrupted StopReason = "interrupted" // the user stopped it
	StopThreshold   StopReason = "threshold"   // a threshold broke (abort-on-fail)
	StopError       StopReason = "error"       // the run itself failed
)

// Run is the content of run.json (schemaVersion 1): everything the other
// artefacts are rendered from. Field names are the stable keys of DESIGN.md;
// more fields may be added, none renamed. A Run is a plain value: safe for
// concurrent reads, not for concurrent writes.
type Run struct {
	SchemaVersion int                       `json:"schemaVersion"`
	Run           Info                      `json:"run"`
	Totals        Totals                    `json:"totals"`
	Endpoints     map[string]*EndpointStats `json:"endpoints"`
	EventTypes    map[string]*Ledger        `json:"eventTypes"`
	Failures      Failures                  `json:"failures"`
	Timeline      []Second                  `json:"timeline"`
	Thresholds    []ThresholdResult         `json:"thresholds"`
	Generator     Generator                 `json:"generator"`
	Warnings      []string                  `json:"warnings,omitempty"`
	// Replay describes the capture a replay ran from; nil for simulated
	// runs. Its fidelity is the scheduleLag: actual send time against the
	// capture's offsets (divided by the speed).
	Replay *ReplayInfo `json:"replay,omitempty"`
}

// ReplayInfo is what a replay was made of and how its input read.
type ReplayInfo struct {
	Capture string `json:"capture"`
	// Speed is the factor offsets were divided by; 0 means as fast as
	// possible (--speed max).
	Speed      float64 `json:"speed"`
	From       string  `json:"from,omitempty"`
	To         string  `json:"to,omitempty"`
	Loop       int     `json:"loop"`
	RewriteIDs bool    `json:"rewriteIds"`
	ShiftTime  bool    `json:"shiftTime"`
	// SkippedLines counts malformed lines passed over under --skip-bad.
	SkippedLines int `json:"skippedLines"`
	// Truncated is true when the capture ended in a torn line (a writer
	// that was killed); the events before it were replayed.
	Truncated bool `json:"truncated"`
}

// Info identifies a run.
type Info struct {
	Scenario     string     `json:"scenario"`
	ScenarioHash string     `json:"scenarioHash"`
	Seed         int64      `json:"seed"`
	Shard        Shard      `json:"shard"`
	Target       string     `json:"target"`
	StartedAt    time.Time  `json:"startedAt"`
	EndedAt      time.Time  `json:"endedAt"`
	StopReason   StopReason `json:"stopReason"`
	// Valid is false when the numbers cannot be trusted: the generator was
	// saturated or the ledger does not balance. InvalidReasons says why.
	Valid          bool     `json:"valid"`
	InvalidReasons []string `json:"invalidReasons,omitempty"`
	// Merged counts the shard runs a merged run was built from (0 when the
	// run was not merged).
	Merged int `json:"merged,omitempty"`
}

// Duration returns EndedAt - StartedAt, at least zero.
func (i Info) Duration() time.Duration {
	if d := i.EndedAt.Sub(i.StartedAt); d > 0 {
		return d
	}
	return 0
}

// Shard names which part of a sharded run this is.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Totals are the run-wide ledgers and latency summaries.
type Totals struct {
	Events   Ledger        `json:"events"`
	Requests RequestCounts `json:"requests"`
	BytesOut int64         `json:"bytesOut"`
	// Latency, ServiceTime and ScheduleLag summarise all endpoints together.
	Latency      Summary `json:"latency"`
	ServiceTime  Summary `json:"serviceTime"`
	ScheduleLag  Summary `json:"scheduleLag"`
	EndToEnd     Summary `json:"endToEnd"`
	FirstAttempt Summary `json:"firstAttempt"`
}

// Ledger counts events by their final fate. Sent counts events sent at
// least once; the invariant is Generated = Accepted + Rejected + Failed + Unsent.
type Ledger struct {
	Generated int64 `json:"generated"`
	Sent      int64 `json:"sent"`
	Accepted  int64 `json:"accepted"`
	Rejected  int64 `json:"rejected"`
	Failed    int64 `json:"failed"`
	Unsent    int64 `json:"unsent"`
}

// Settled returns Accepted + Rejected + Failed + Unsent.
func (l Ledger) Settled() int64 { return l.Accepted + l.Rejected + l.Failed + l.Unsent }

// Balanced reports whether every generated event has a final fate.
func (l Ledger) Balanced() bool { return l.Generated == l.Settled() }

func (l *Ledger) add(o Ledger) {
	l.Generated += o.Generated
	l.Sent += o.Sent
	l.Accepted += o.Accepted
	l.Rejected += o.Rejected
	l.Failed += o.Failed
	l.Unsent += o.Unsent
}

// RequestCounts counts HTTP attempts. Sent = OK + Throttled + Errors;
// Retries counts the attempts after the first of a batch.
type RequestCounts struct {
	Sent      int64 `json:"sent"`
	OK        int64 `json:"ok"`
	Throttled int64 `json:"throttled"`
	Errors    int64 `json:"errors"`
	Retries   int64 `json:"retries"`
}

func (c *RequestCounts) add(o RequestCounts) {
	c.Sent += o.Sent
	c.OK += o.OK
	c.Throttled += o.Throttled
	c.Errors += o.Errors
	c.Retries += o.Retries
}

// Summary is a latency distribution in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// EndpointStats is one endpoint's section of run.json.
type EndpointStats struct {
	Events    Ledger `json:"events"`
	Requests  int64  `json:"requests"`
	OK        int64  `json:"ok"`
	Throttled int64  `json:"throttled"`
	Errors    int64  `json:"errors"`
	Retries   int64  `json:"retries"`
	BytesOut  int64  `json:"bytesOut"`
	// StatusCodes counts responses by HTTP status ("202", "429"); attempts
	// with no response are counted under their error kind ("timeout",
	// "connection", "canceled").
	StatusCodes  map[string]int64 `json:"statusCodes"`
	Latency      Summary          `json:"latency"`
	ServiceTime  Summary          `json:"serviceTime"`
	ScheduleLag  Summary          `json:"scheduleLag"`
	EndToEnd     Summary          `json:"endToEnd"`
	FirstAttempt Summary          `json:"firstAttempt"`
	// Histograms holds the base64 V2-compressed HdrHistograms (microseconds)
	// by metric name, so that runs merge exactly.
	Histograms map[string]string `json:"histograms"`
}

func (e *EndpointStats) requestCounts() RequestCounts {
	return RequestCounts{Sent: e.Requests, OK: e.OK, Throttled: e.Throttled, Errors: e.Errors, Retries: e.Retries}
}

// Failures groups the events that did not end accepted.
type Failures struct {
	Total    int64          `json:"total"`
	ByReason []FailureGroup `json:"byReason"`
}

// FailureGroup counts failed events of one endpoint with one reason.
type FailureGroup struct {
	Endpoint string `json:"endpoint"`
	// Reason is a stable short key: the server's message for rejections,
	// "http 503", "timeout", "connection", "retry-budget", "unsent: interrupted"…
	Reason          string   `json:"reason"`
	Outcome         string   `json:"outcome"`
	Count           int64    `json:"count"`
	ExampleEventIDs []string `json:"exampleEventIds"`
}

// Second is one row of the timeline: what completed during one second
// after the start.
type Second struct {
	Second    int     `json:"second"`
	Requests  int64   `json:"requests"`
	Events    int64   `json:"events"`
	Errors    int64   `json:"errors"`
	Throttled int64   `json:"throttled"`
	Retries   int64   `json:"retries"`
	P50       float64 `json:"p50"`
	P99       float64 `json:"p99"`
	// LagMax is the largest schedule lag of the second, in milliseconds.
	LagMax float64 `json:"lagMax"`
	// StatusCodes counts the second's responses like EndpointStats.StatusCodes.
	StatusCodes map[string]int64 `json:"statusCodes,omitempty"`
}

// Generator is the health of the load generator itself.
type Generator struct {
	CPUSeconds  float64 `json:"cpuSeconds"`
	MaxRSSBytes int64   `json:"maxRssBytes"`
	// ScheduleLagP99 is the p99 of (actual − intended send time) over all
	// requests, in milliseconds.
	ScheduleLagP99 float64 `json:"scheduleLagP99"`
	// SaturationLimit is the ScheduleLagP99 above which the generator
	// counts as saturated, in milliseconds.
	SaturationLimit float64 `json:"saturationLimit"`
	Saturated       bool    `json:"saturated"`
}

// ThresholdResult is one evaluated threshold. Actual and Limit are in the
// metric's unit (ms for latencies, a fraction for rates, a count, or per
// second); Delta = Actual − Limit.
type ThresholdResult struct {
	Expr   string  `json:"expr"`
	OK     bool    `json:"ok"`
	Actual float64 `json:"actual"`
	Limit  float64 `json:"limit"`
	Delta  float64 `json:"delta"`
	Unit   Unit    `json:"unit"`
}
