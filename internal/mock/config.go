package mock

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Errors wrapped by New and the Parse functions; check them with errors.Is.
var (
	// ErrConfig is wrapped by New when a Config value is out of range.
	ErrConfig = errors.New("mock: invalid config")
	// ErrSpec is wrapped by the Parse functions when a flag spec is malformed.
	ErrSpec = errors.New("invalid spec")
	// ErrClients is wrapped by LoadClients when the clients file is invalid.
	ErrClients = errors.New("invalid clients file")
)

// Defaults used when a Config field is zero.
const (
	DefaultTokenLifetime         = 24 * time.Hour
	DefaultRatePerMinute         = 300
	DefaultConversationRetention = 5 * time.Minute
	DefaultIdleRetention         = time.Hour
	DefaultIDRetention           = 15 * time.Minute
)

// Config configures a Server. The zero value is a usable mock with one
// generated client, the platform's default limits and no faults.
type Config struct {
	// Clients may get tokens. When nil, one client is made from ClientID and
	// ClientSecret, or generated when those are empty (see Server.Clients).
	Clients []Client
	// ClientID and ClientSecret name the single client used when Clients is
	// nil; it gets all three inject permissions.
	ClientID, ClientSecret string
	// TokenLifetime is how long a token lives unless its Client says
	// otherwise; default 24h.
	TokenLifetime time.Duration
	// RateLimit is applied per token.
	RateLimit RateLimit
	// StrictSequence rejects events that break a life-cycle rule instead of
	// only counting them. Duplicate eventIds stay idempotent (accepted) even
	// then, so a retry after a lost answer is never rejected.
	StrictSequence bool
	// AllowUnknownFields accepts events carrying fields their type does not
	// define (they are counted in Stats.UnknownFields). By default such an
	// event is rejected: a misspelt optional field is a client bug that a
	// lenient server would silently drop.
	AllowUnknownFields bool
	// Faults to inject.
	Faults Faults
	// Seed makes the faults deterministic: the same seed and the same order
	// of requests give the same faults.
	Seed int64
	// Now is the clock; nil means time.Now. Rate-limit windows, token
	// expiry, stalls and state retention use it.
	Now func() time.Time
	// ConversationRetention is how long a conversation whose legs have all
	// ended is remembered after its last event (late wrap-ups still match);
	// default 5m.
	ConversationRetention time.Duration
	// IdleRetention is how long a conversation with open legs is remembered
	// after its last event; default 1h. It bounds the memory of a long soak
	// whose conversations never end.
	IdleRetention time.Duration
	// IDRetention is how long an accepted eventId is remembered for
	// deduplication, at least; ids are kept between one and two
	// IDRetentions. Default 15m.
	IDRetention time.Duration
}

// Client is an OAuth client allowed to get tokens.
type Client struct {
	ID, Secret string
	// Permissions are Genesys permission strings such as
	// conversation:conversation:inject; a segment may be "*".
	Permissions []string
	// TokenLifetime overrides Config.TokenLifetime when non-zero.
	TokenLifetime time.Duration
}

// AllPermissions returns the three inject permissions, one per endpoint.
func AllPermissions() []string {
	ps := make([]string, 0, events.NumEndpoints)
	for _, ep := range events.Endpoints() {
		ps = append(ps, ep.Permission())
	}
	return ps
}

// RateLimit is the per-token request limit, counted in one-minute windows
// like the platform's token.rate.per.minute.
type RateLimit struct {
	// PerMinute is the limit over all endpoints: 0 means the default 300,
	// negative means unlimited.
	PerMinute int
	// PerEndpoint limits each endpoint separately; 0 means no limit.
	PerEndpoint [events.NumEndpoints]int
}

// Faults are the failures a Server injects into batch requests. Latency
// delays every batch answer, as response time does; the other faults only
// hit requests that passed the request checks (token, limit, content type,
// size, syntax). Rates are probabilities in [0, 1]; the request-level ones
// (FailRates and ResetRate) must sum to at most 1.
type Faults struct {
	// Latency delays every batch answer.
	Latency Latency
	// FailRates answer a share of batches with a 5xx status.
	FailRates []FailRate
	// ResetRate closes the connection of a share of batches without an answer.
	ResetRate float64
	// Stall makes the server stop answering for a while, periodically.
	Stall Stall
	// SlowBody dribbles out a share of answers slowly.
	SlowBody SlowBody
	// RejectRate rejects a share of valid events with retryable false;
	// RejectRetryableRate with retryable true.
	RejectRate, RejectRetryableRate float64
}

// FailRate answers a share Rate of batches with Status.
type FailRate struct {
	Status int
	Rate   float64
}

// Stall stops answering for For at the start of every period Every (the
// first period, from the server's start, is spared). Requests that arrive
// during a stall are held until it ends; one whose client gives up first is
// not processed.
type Stall struct {
	Every, For time.Duration
}

// SlowBody spreads the answer body of a share Rate of batches over Duration.
type SlowBody struct {
	Rate     float64
	Duration time.Duration
}

// LatencyKind is a latency distribution.
type LatencyKind uint8

// Latency distributions.
const (
	LatencyNone      LatencyKind = iota
	LatencyFixed                 // always A
	LatencyUniform               // uniform in [A, B]
	LatencyLognormal             // median A, 99th percentile B
)

var latencyNames = [...]string{"none", "fixed", "uniform", "lognormal"}

// Latency is a latency distribution. Its zero value adds no latency.
type Latency struct {
	Kind LatencyKind
	A, B time.Duration
}

// z99 is the standard normal quantile of 0.99: it turns (median, p99) into
// the lognormal's sigma.
const z99 = 2.3263478740408408

// String returns the spec ParseLatency reads back.
func (l Latency) String() string {
	switch l.Kind {
	case LatencyFixed:
		return "fixed:" + l.A.String()
	case LatencyUniform, LatencyLognormal:
		return latencyNames[l.Kind] + ":" + l.A.String() + "," + l.B.String()
	}
	return "none"
}

// sample draws one latency from two independent uniforms in [0, 1).
func (l Latency) sample(u1, u2 float64) time.Duration {
	switch l.Kind {
	case LatencyFixed:
		return l.A
	case LatencyUniform:
		return l.A + time.Duration(u1*float64(l.B-l.A))
	case LatencyLognormal:
		// Box-Muller; 1-u1 keeps the log argument in (0, 1].
		z := math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
		mu := math.Log(float64(l.A))
		sigma := (math.Log(float64(l.B)) - mu) / z99
		d := math.Exp(mu + sigma*z)
		// A cap keeps one unlucky draw from holding a request for hours.
		if limit := 10 * float64(l.B); d > limit {
			d = limit
		}
		return time.Duration(d)
	}
	return 0
}

// ParseLatency parses a latency spec: "none", "fixed:20ms",
// "uniform:5ms,50ms" (min, max) or "lognormal:20ms,200ms" (median, p99).
func ParseLatency(spec string) (Latency, error) {
	bad := func(why string) (Latency, error) {
		return Latency{}, fmt.Errorf("latency %q: %s: %w", spec, why, ErrSpec)
	}
	if spec == "" || spec == "none" {
		return Latency{}, nil
	}
	kind, args, ok := strings.Cut(spec, ":")
	if !ok {
		return bad("want none, fixed:D, uniform:MIN,MAX or lognormal:MEDIAN,P99")
	}
	var l Latency
	switch kind {
	case "fixed":
		d, err := time.ParseDuration(args)
		if err != nil || d < 0 {
			return bad("want fixed:DURATION, e.g. fixed:20ms")
		}
		return Latency{Kind: LatencyFixed, A: d}, nil
	case "uniform":
		l.Kind = LatencyUniform
	case "lognormal":
		l.Kind = LatencyLognormal
	default:
		return bad("unknown distribution " + strconv.Quote(kind) + " (want fixed, uniform or lognormal)")
	}
	a, b, ok := strings.Cut(args, ",")
	if !ok {
		return bad("want " + kind + ":D1,D2")
	}
	var err1, err2 error
	l.A, err1 = time.ParseDuration(strings.TrimSpace(a))
	l.B, err2 = time.ParseDuration(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return bad("durations such as 5ms,50ms")
	}
	switch {
	case l.A < 0 || l.B < l.A:
		return bad("want 0 <= first <= second")
	case l.Kind == LatencyLognormal && (l.A <= 0 || l.B <= l.A):
		return bad("want 0 < median < p99")
	}
	return l, nil
}

// ParseFailRate parses STATUS:RATE, e.g. "503:0.01". The status must be
// 500, 502, 503 or 504.
func ParseFailRate(spec string) (status int, rate float64, err error) {
	s, r, ok := strings.Cut(spec, ":")
	if !ok {
		return 0, 0, fmt.Errorf("fail rate %q: want STATUS:RATE, e.g. 503:0.01: %w", spec, ErrSpec)
	}
	status, err = strconv.Atoi(s)
	if err != nil || !faultStatus(status) {
		return 0, 0, fmt.Errorf("fail rate %q: status must be 500, 502, 503 or 504: %w", spec, ErrSpec)
	}
	rate, err = parseRate(r)
	if err != nil {
		return 0, 0, fmt.Errorf("fail rate %q: %w", spec, err)
	}
	return status, rate, nil
}

// ParseRate parses a probability in [0, 1].
func ParseRate(s string) (float64, error) { return parseRate(s) }

func parseRate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || !(r >= 0 && r <= 1) {
		return 0, fmt.Errorf("rate %q: want a number between 0 and 1: %w", s, ErrSpec)
	}
	return r, nil
}

// ParseStall parses EVERY,FOR, e.g. "30s,5s": every 30 s the server stops
// answering for 5 s.
func ParseStall(spec string) (Stall, error) {
	a, b, ok := strings.Cut(spec, ",")
	every, err1 := time.ParseDuration(a)
	dur, err2 := time.ParseDuration(b)
	if !ok || err1 != nil || err2 != nil || dur <= 0 || every <= dur {
		return Stall{}, fmt.Errorf("stall %q: want EVERY,FOR with 0 < FOR < EVERY, e.g. 30s,5s: %w", spec, ErrSpec)
	}
	return Stall{Every: every, For: dur}, nil
}

// ParseSlowBody parses DURATION or RATE,DURATION, e.g. "2s" (every answer)
// or "0.1,2s" (one answer in ten is spread over 2 s).
func ParseSlowBody(spec string) (SlowBody, error) {
	r, d, ok := strings.Cut(spec, ",")
	if !ok {
		r, d = "1", spec
	}
	rate, err := parseRate(r)
	dur, err2 := time.ParseDuration(d)
	if err != nil || err2 != nil || dur <= 0 {
		return SlowBody{}, fmt.Errorf("slow body %q: want DURATION or RATE,DURATION, e.g. 0.1,2s: %w", spec, ErrSpec)
	}
	return SlowBody{Rate: rate, Duration: dur}, nil
}

func faultStatus(s int) bool { return s == 500 || s == 502 || s == 503 || s == 504 }

// check reports the first out-of-range value.
func (f *Faults) check() error {
	sum := f.ResetRate
	if !(f.ResetRate >= 0 && f.ResetRate <= 1) {
		return fmt.Errorf("%w: Faults.ResetRate %v not in [0, 1]", ErrConfig, f.ResetRate)
	}
	for _, fr := range f.FailRates {
		if !faultStatus(fr.Status) {
			return fmt.Errorf("%w: Faults.FailRates: status %d is not 500, 502, 503 or 504", ErrConfig, fr.Status)
		}
		if !(fr.Rate >= 0 && fr.Rate <= 1) {
			return fmt.Errorf("%w: Faults.FailRates: rate %v for %d not in [0, 1]", ErrConfig, fr.Rate, fr.Status)
		}
		sum += fr.Rate
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("%w: fail rates and reset rate sum to %v > 1", ErrConfig, sum)
	}
	if r := f.RejectRate + f.RejectRetryableRate; !(f.RejectRate >= 0 && f.RejectRetryableRate >= 0 && r <= 1+1e-9) {
		return fmt.Errorf("%w: reject rates %v + %v not in [0, 1]", ErrConfig, f.RejectRate, f.RejectRetryableRate)
	}
	if s := f.SlowBody; !(s.Rate >= 0 && s.Rate <= 1) || s.Duration < 0 {
		return fmt.Errorf("%w: Faults.SlowBody %+v out of range", ErrConfig, s)
	}
	if s := f.Stall; s != (Stall{}) && (s.For <= 0 || s.Every <= s.For) {
		return fmt.Errorf("%w: Faults.Stall needs 0 < For < Every, got %v,%v", ErrConfig, s.Every, s.For)
	}
	l := f.Latency
	switch {
	case l.Kind > LatencyLognormal:
		return fmt.Errorf("%w: Faults.Latency kind %d", ErrConfig, l.Kind)
	case l.A < 0 || (l.Kind == LatencyUniform && l.B < l.A):
		return fmt.Errorf("%w: Faults.Latency %v out of range", ErrConfig, l)
	case l.Kind == LatencyLognormal && (l.A <= 0 || l.B <= l.A):
		return fmt.Errorf("%w: Faults.Latency %v needs 0 < median < p99", ErrConfig, l)
	}
	return nil
}
