package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"time"
)

// Scenario is a parsed, validated scenario. Parse, Load and Default return
// a fresh value the caller owns; nothing in the package keeps a reference,
// so a Scenario may be read from several goroutines once built, but must
// not be modified while others read it.
type Scenario struct {
	Name        string
	Description string
	// Seed drives every random choice of the simulation; the same seed,
	// scenario and start give byte-identical event streams.
	Seed int64
	// Duration is how long the run generates events (wall-clock time).
	Duration time.Duration
	// TimeScale compresses the behaviour of agents and conversations:
	// with TimeScale 10, a 300 s call lasts 30 s of run time. Always > 0.
	TimeScale float64

	Source Source
	Agents Agents
	// Queues, Skills, Languages, WrapUpCodes and Stations are the Genesys
	// ids that conversations use (generated for the mock, real for an org).
	Queues      IDs
	Skills      IDs
	Languages   IDs
	WrapUpCodes IDs
	Stations    IDs
	Routing     Routing

	Arrivals Arrivals
	Mix      Mix
	Voice    Voice
	Email    Email

	Batching   Batching
	Limits     Limits
	Retry      Retry
	Thresholds []Threshold
	Faults     Faults

	// File is where the scenario came from ("default.yaml" for Default);
	// it is not part of Hash.
	File string `json:"-"`
}

// Source describes the external platform that the events claim to come from.
type Source struct {
	// SourceID is the id of the presence/conversation source object
	// (sourceConfiguration.sourceId and the presence/routing sourceId).
	// Generated from the seed when the scenario leaves it out.
	SourceID string
	// InteractionPrefix starts every interactionId, the external
	// platform's native id of a conversation ("prefix" + a number).
	InteractionPrefix string
	// generated is true when SourceID came from the seed, so SetSeed
	// can derive it again.
	generated bool
}

// SetSeed replaces the scenario's seed (loadgen run --seed), deriving again
// every id that came from the old one.
func (s *Scenario) SetSeed(seed int64) {
	s.Seed = seed
	if s.Source.generated {
		s.Source.SourceID = GeneratedID(seed, KindSource, 0)
	}
}

// IDs is a set of Genesys ids: either given (real ids of an org) or
// Count ids generated deterministically from the seed (for the mock).
type IDs struct {
	Count int
	IDs   []string
}

// N returns how many ids the set holds.
func (ids IDs) N() int {
	if len(ids.IDs) > 0 {
		return len(ids.IDs)
	}
	return ids.Count
}

// Agents describes the agent population and its behaviour.
type Agents struct {
	// Count agents are generated unless IDs (inline or read from IDsFile,
	// a CSV whose first column is the user id) names real users.
	Count   int
	IDs     []string
	IDsFile string
	// LoginSpread spreads the agents' log-ins uniformly over this much
	// scenario time from the start of the run.
	LoginSpread time.Duration
	// Shift is how long an agent stays logged in (0 = the whole run).
	Shift time.Duration
	// Breaks: how often an agent goes on break and for how long. A zero
	// Every means no breaks.
	Breaks Breaks
	// Presence holds the presence definition ids used for each state.
	Presence Presence
	// NotResponding is how often an offered interaction goes unanswered.
	NotResponding NotResponding
}

// N returns the number of agents.
func (a Agents) N() int {
	if len(a.IDs) > 0 {
		return len(a.IDs)
	}
	return a.Count
}

// Breaks is an agent's break behaviour.
type Breaks struct {
	Every  Dist
	Length Dist
}

// Presence maps agent states to presence definition ids.
type Presence struct {
	OnQueue, Break, Offline string
}

// NotResponding makes some alerts go unanswered: the agent leg ends after
// Timeout, the agent's routing status becomes NotResponding for Recovery,
// and the interaction is offered to another agent.
type NotResponding struct {
	Probability float64
	Timeout     Dist
	Recovery    Dist
}

// Routing sets how often queue legs carry skills and a language.
type Routing struct {
	SkillsProbability   float64
	LanguageProbability float64
}

// ArrivalProcess is how conversation arrivals are spaced.
type ArrivalProcess uint8

// Arrival processes.
const (
	Poisson  ArrivalProcess = iota // exponential gaps (the default)
	Constant                       // evenly spaced at the current rate
)

var processNames = [...]string{"poisson", "constant"}

// String returns the process's YAML name.
func (p ArrivalProcess) String() string {
	if int(p) < len(processNames) {
		return processNames[p]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler (used by Hash).
func (p ArrivalProcess) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Arrivals is the conversation arrival process. Rates are conversations
// per second of run time.
type Arrivals struct {
	Process ArrivalProcess
	// Rate is the starting rate, and the rate throughout when there are no stages.
	Rate float64
	// Stages ramp the rate linearly from the previous stage's target (or
	// Rate) to their own target over their duration; after the last stage
	// the rate stays at its target.
	Stages []Stage
}

// Stage is one ramp of the arrival rate.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// RateAt returns the arrival rate (conversations/s) at offset t of the run.
// It is safe for concurrent use.
func (a Arrivals) RateAt(t time.Duration) float64 {
	from := a.Rate
	var start time.Duration
	for _, st := range a.Stages {
		if t < start+st.Duration {
			f := float64(t-start) / float64(st.Duration)
			return from + (st.Target-from)*f
		}
		start += st.Duration
		from = st.Target
	}
	return from
}

// MaxRate returns the highest rate the process reaches.
func (a Arrivals) MaxRate() float64 {
	m := a.Rate
	for _, st := range a.Stages {
		m = math.Max(m, st.Target)
	}
	return m
}

// Expected returns the expected number of arrivals in [0, d).
func (a Arrivals) Expected(d time.Duration) float64 {
	n := 0.0
	from := a.Rate
	var start time.Duration
	for _, st := range a.Stages {
		if start >= d {
			return n
		}
		end := min(start+st.Duration, d)
		to := a.RateAt(end)
		if end == start+st.Duration {
			to = st.Target
		}
		n += (from + to) / 2 * (end - start).Seconds()
		start += st.Duration
		from = st.Target
	}
	if d > start {
		n += from * (d - start).Seconds()
	}
	return n
}

// Mix weighs the media of arriving conversations.
type Mix struct {
	Voice, Email float64
}

// VoiceShare returns the fraction of arrivals that are voice calls.
func (m Mix) VoiceShare() float64 {
	if m.Voice+m.Email == 0 {
		return 0
	}
	return m.Voice / (m.Voice + m.Email)
}

// Step is an optional step of a life-cycle: it happens with Probability
// and lasts Duration.
type Step struct {
	Probability float64
	Duration    Dist
}

// Transfers holds the chance that an agent segment ends in each kind of
// transfer. Their sum is at most 1; the rest ends the conversation.
type Transfers struct {
	Queue, User, External, Consult float64
	// Max caps the transfers of one conversation.
	Max int
}

// Sum returns the probability that a segment ends in any transfer.
func (t Transfers) Sum() float64 { return t.Queue + t.User + t.External + t.Consult }

// Wrapup is after-contact work and disposition.
type Wrapup struct {
	// Probability that the agent leg requires after-contact work; only
	// those legs get a disposition.
	Probability float64
	Duration    Dist
	// CodeProbability is the chance a disposition carries a wrap-up code
	// (else it records a skipped wrap-up); notes and tags go with a code.
	CodeProbability  float64
	NotesProbability float64
	Tags             []string
}

// Voice is the life-cycle of an inbound ACD voice call.
type Voice struct {
	IVR       Step
	QueueWait Dist
	// Abandon: with Probability, the caller hangs up after Duration if no
	// agent has been offered the call by then.
	Abandon  Step
	Alerting Dist
	Talk     Dist
	Hold     Step
	// Mute: with Probability the agent mutes for Duration during the talk.
	Mute      Step
	Transfers Transfers
	// ExternalNumbers are the destinations of transfers to external numbers.
	ExternalNumbers []string
	// CustomerHangsUp is the chance the caller, not the agent, ends the call.
	CustomerHangsUp float64
	Wrapup          Wrapup
	ANIs, DNISs     []string
}

// Email is the life-cycle of an inbound routed email.
type Email struct {
	Flow      Step
	QueueWait Dist
	Alerting  Dist
	// Handle is the time from answer to the reply (or the end without one).
	Handle Dist
	// Reply: with Probability the agent sends a reply, transmitting for Duration.
	Reply Step
	Hold  Step
	// Transfers: only Queue and User apply to email.
	Transfers Transfers
	// FollowUp: with Probability the customer writes again after Duration,
	// opening a new leg whose previousEmailId is the first one.
	FollowUp Step
	Wrapup   Wrapup
	To       []string
	Subjects []string
}

// Batching controls how events are grouped into requests.
type Batching struct {
	MaxEvents int           // ≤ 100
	MaxBytes  int           // ≤ 512,000
	Linger    time.Duration // how long a partial batch may wait for more events
}

// Limits caps what the engine sends. Zero means unlimited.
type Limits struct {
	RequestsPerSecond float64
	// Endpoint holds per-endpoint request rates, indexed by events.Endpoint.
	Endpoint        [3]float64
	EventsPerSecond float64
	InFlight        int
}

// RetryMode says who retries failed requests.
type RetryMode uint8

// Retry modes.
const (
	// RetryClient retries as a good client does: 429 after Retry-After,
	// 5xx and retryable events with backoff and jitter.
	RetryClient RetryMode = iota
	// RetryMeasure never retries: every failure is recorded as it is.
	RetryMeasure
)

var retryNames = [...]string{"client", "measure"}

// String returns the mode's YAML name.
func (m RetryMode) String() string {
	if int(m) < len(retryNames) {
		return retryNames[m]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler (used by Hash).
func (m RetryMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Retry is the retry policy.
type Retry struct {
	Mode        RetryMode
	MaxAttempts int // including the first; ≥ 1
	Backoff     Backoff
	// Budget caps retries as a fraction of first attempts (0.1 = at most
	// one retry per ten requests); 0 means no cap.
	Budget float64
}

// Backoff is exponential backoff with jitter.
type Backoff struct {
	Initial, Max time.Duration
	Multiplier   float64
	Jitter       float64 // 0..1, fraction of the wait randomised
}

// Threshold is one pass/fail condition such as "conversations.p99 < 500ms".
// The report package parses Expr; Line and Column locate it in the file.
type Threshold struct {
	Expr string
	// Line and Column are not part of Hash: moving a line does not change
	// what the scenario means.
	Line, Column int `json:"-"`
}

// Faults deliberately breaks some events to exercise error paths end to end.
// A broken event keeps its eventId but loses a required field (sourceId);
// only agent-state events (presence, routing status) are broken, so no
// conversation life-cycle is disturbed.
type Faults struct {
	// InvalidEvents breaks the first N agent-state events of the run.
	InvalidEvents int
	// InvalidRate breaks each other agent-state event with this probability.
	InvalidRate float64
}

// Hash returns "sha256:" and the hex digest of the canonical scenario (a
// fixed JSON encoding of the parsed values, so formatting and comments do
// not change it). It is safe for concurrent use.
func (s *Scenario) Hash() string {
	c := *s
	c.File = ""
	b, err := json.Marshal(&c)
	if err != nil {
		// Every field is a plain value with a deterministic encoding.
		return "sha256:unavailable"
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
