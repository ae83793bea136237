package engine

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Sentinel errors. Run returns them wrapped with the detail (host, endpoint,
// status, field); callers test with errors.Is to pick an exit code.
var (
	// ErrUnreachable: the target (or the token endpoint) could not be dialled.
	ErrUnreachable = errors.New("target unreachable")
	// ErrAuth: credentials were refused, or the target kept answering 401/403.
	ErrAuth = errors.New("authentication refused")
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("invalid engine config")
)

// Config configures one Run. The zero value of every field means its
// documented default, so a Config needs only Target. Run takes a copy, so
// one Config may serve several runs.
type Config struct {
	// Target is the base URL, e.g. http://127.0.0.1:8080 or
	// https://api.mypurecloud.com. Request paths are appended to it.
	Target string
	// Tokens supplies bearer tokens; nil sends no Authorization header.
	Tokens TokenSource
	// HTTPClient sends the requests; nil means a client tuned for the run
	// (keep-alive, MaxIdleConnsPerHost = MaxInFlight, TLS verified). When
	// the client has no Jar, Run calls its Transport directly: redirects
	// are not followed (a 3xx is reported as such) and RequestTimeout
	// stands in for Client.Timeout.
	HTTPClient *http.Client
	// RequestTimeout bounds each attempt (default 30s).
	RequestTimeout time.Duration
	// Start anchors the schedule: an event is due at Start + At (zero: the
	// moment Run finishes its preflight).
	Start time.Time
	// SkipPreflight skips Run's check of the target, for a caller that ran
	// Preflight itself before fixing Start.
	SkipPreflight bool
	// Unpaced ignores At and sends as fast as the limits allow (--speed
	// max); an attempt's intended time is when a worker takes the batch.
	Unpaced bool
	Batch   BatchConfig
	Limits  Limits
	Retry   RetryConfig
	// DrainTimeout is how long in-flight requests may finish after the run
	// is stopped before they are cancelled (default 10s).
	DrainTimeout time.Duration
	// DryRun builds and checks every batch but sends nothing: every event
	// ends Unsent (Attempt 0 Results).
	DryRun bool
}

// BatchConfig bounds one request body. It is a plain value.
type BatchConfig struct {
	// MaxEvents caps events per request (default and maximum 100).
	MaxEvents int
	// MaxBytes caps the request body size (default 512000).
	MaxBytes int
	// Linger is how long the oldest event of a batch may wait for company
	// before the batch is closed anyway (default 100ms).
	Linger time.Duration
}

// Limits caps the offered load. Rates are per second; zero means no limit.
// It is a plain value.
type Limits struct {
	// RequestsPerSecond limits requests over all endpoints.
	RequestsPerSecond float64
	// PerEndpoint limits requests per endpoint, indexed by events.Endpoint.
	PerEndpoint [events.NumEndpoints]float64
	// EventsPerSecond limits events over all endpoints.
	EventsPerSecond float64
	// MaxInFlight caps concurrent requests (default 64).
	MaxInFlight int
	// Lanes is the number of ordered lanes per endpoint (default 16, at
	// most MaxInFlight). A lane has at most one request in flight; events
	// with the same Key use the same lane while any of them is outstanding,
	// and otherwise the lane the endpoint currently fills, so at low rates
	// batches stay full however many lanes there are.
	Lanes int
	// Queued is how many closed batches may wait for their lanes, over
	// all lanes, before the scheduler itself waits (default 4 per lane).
	// It bounds memory when the target stalls (the wait then shows as
	// schedule lag) while letting a lane paused by Retry-After fall behind
	// without holding up the others.
	Queued int
}

// RetryMode selects what happens to throttled or failed attempts.
type RetryMode uint8

// Retry modes.
const (
	// RetryClient retries as a well-behaved client would: Retry-After,
	// backoff with full jitter, retryable per-event errors, a budget.
	RetryClient RetryMode = iota
	// RetryMeasure never retries: every throttle or error is an outcome.
	RetryMeasure
)

// String returns "client" or "measure".
func (m RetryMode) String() string {
	switch m {
	case RetryClient:
		return "client"
	case RetryMeasure:
		return "measure"
	}
	return fmt.Sprintf("RetryMode(%d)", uint8(m))
}

// RetryConfig is the retry policy. It is a plain value.
type RetryConfig struct {
	Mode RetryMode
	// MaxAttempts caps attempts per batch, the first included (default 5).
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the exponential backoff with full
	// jitter for 5xx, timeouts and connection errors (defaults 100ms, 10s).
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After honoured (default 180s, as
	// the Genesys SDKs do); a longer one fails the events.
	MaxRetryAfter time.Duration
	// Budget caps retries as a share of first attempts (default 0.2;
	// negative: no cap). BudgetFloor retries are always allowed on top
	// (default 10) so a short run can still retry.
	Budget      float64
	BudgetFloor int
}

// withDefaults returns cfg with defaults filled in, or an error wrapping
// ErrConfig that names the bad field.
func (cfg Config) withDefaults() (Config, error) {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: %s = %v: %s", ErrConfig, field, v, why)
	}
	if !cfg.DryRun || cfg.Target != "" {
		u, err := url.Parse(cfg.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, bad("Target", fmt.Sprintf("%q", cfg.Target), "want an http:// or https:// base URL")
		}
	}
	def := func(d *time.Duration, v time.Duration, field string) error {
		if *d < 0 {
			return bad(field, *d, "must not be negative")
		}
		if *d == 0 {
			*d = v
		}
		return nil
	}
	defInt := func(p *int, v int, field string) error {
		if *p < 0 {
			return bad(field, *p, "must not be negative")
		}
		if *p == 0 {
			*p = v
		}
		return nil
	}
	b, l, r := &cfg.Batch, &cfg.Limits, &cfg.Retry
	for _, err := range []error{
		def(&cfg.RequestTimeout, 30*time.Second, "RequestTimeout"),
		def(&cfg.DrainTimeout, 10*time.Second, "DrainTimeout"),
		def(&b.Linger, 100*time.Millisecond, "Batch.Linger"),
		def(&r.BaseBackoff, 100*time.Millisecond, "Retry.BaseBackoff"),
		def(&r.MaxBackoff, 10*time.Second, "Retry.MaxBackoff"),
		def(&r.MaxRetryAfter, 180*time.Second, "Retry.MaxRetryAfter"),
		defInt(&b.MaxEvents, events.MaxEventsPerRequest, "Batch.MaxEvents"),
		defInt(&b.MaxBytes, events.MaxRequestBytes, "Batch.MaxBytes"),
		defInt(&l.MaxInFlight, 64, "Limits.MaxInFlight"),
		defInt(&l.Lanes, min(16, l.MaxInFlight), "Limits.Lanes"),
		defInt(&r.MaxAttempts, 5, "Retry.MaxAttempts"),
		defInt(&r.BudgetFloor, 10, "Retry.BudgetFloor"),
	} {
		if err != nil {
			return cfg, err
		}
	}
	if l.Lanes == 0 { // MaxInFlight was 0 when Lanes' default was computed
		l.Lanes = min(16, l.MaxInFlight)
	}
	if l.Queued < 0 {
		return cfg, bad("Limits.Queued", l.Queued, "must not be negative")
	}
	if l.Queued == 0 {
		l.Queued = 4 * l.Lanes * events.NumEndpoints
	}
	if l.Lanes > 4096 {
		return cfg, bad("Limits.Lanes", l.Lanes, "at most 4096 (each lane is a goroutine)")
	}
	if b.MaxEvents > events.MaxEventsPerRequest {
		return cfg, bad("Batch.MaxEvents", b.MaxEvents, fmt.Sprintf("the API takes at most %d events per request", events.MaxEventsPerRequest))
	}
	if b.MaxBytes < 64 {
		return cfg, bad("Batch.MaxBytes", b.MaxBytes, "too small for any batch")
	}
	rates := map[string]float64{"Limits.RequestsPerSecond": l.RequestsPerSecond, "Limits.EventsPerSecond": l.EventsPerSecond}
	for i, v := range l.PerEndpoint {
		rates[fmt.Sprintf("Limits.PerEndpoint[%s]", events.Endpoint(i))] = v
	}
	for name, v := range rates {
		if v < 0 || v != v {
			return cfg, bad(name, v, "must be a non-negative rate")
		}
	}
	if r.Mode > RetryMeasure {
		return cfg, bad("Retry.Mode", r.Mode, "want RetryClient or RetryMeasure")
	}
	if r.Budget == 0 {
		r.Budget = 0.2
	}
	return cfg, nil
}

// newHTTPClient returns the default client: keep-alive with an idle pool as
// large as the in-flight cap (so connections are reused, not redialled),
// verified TLS, no redirects (a redirected POST is an error to report).
func newHTTPClient(maxInFlight int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * maxInFlight
	tr.MaxIdleConnsPerHost = maxInFlight
	tr.DisableCompression = true
	// Room for the headers and a typical batch (100 events of ~225 bytes)
	// in one buffer: one write per request, no per-request copy buffer.
	tr.WriteBufferSize = 64 << 10
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
