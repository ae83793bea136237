package report

import (
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Outcome is the fate of one event in one request attempt.
type Outcome uint8

// Event outcomes. Accepted, Rejected, Failed and Unsent are final and enter
// the ledger; Retry means the attempt did not settle the event and it will be
// sent again (with the same eventId), so a later Result carries its fate.
const (
	Accepted Outcome = iota // taken by the target: 2xx and not named in errors
	Rejected                // named in BatchEventResponse.errors, and final
	Failed                  // the request failed and no retry is left
	Unsent                  // never sent: the run stopped first
	Retry                   // will be sent again; not counted in the ledger
)

var outcomeNames = [...]string{"accepted", "rejected", "failed", "unsent", "retry"}

// String returns the lower-case name used in run.json and failures.ndjson.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// ErrorKind classifies why a request did not succeed. It is an enum so that
// reports group failures without matching error strings.
type ErrorKind uint8

// Error kinds.
const (
	ErrNone       ErrorKind = iota // 2xx response
	ErrStatus                      // non-2xx response other than those below
	ErrThrottled                   // 429
	ErrAuth                        // 401 or 403, or the token endpoint refused us
	ErrTimeout                     // no response within the request timeout
	ErrConnection                  // refused, reset, DNS, TLS: no HTTP response
	ErrDecode                      // 2xx whose body is not a BatchEventResponse
	ErrCanceled                    // the run was stopped while the request was in flight
	ErrBudget                      // a retry was due but the retry budget was spent
)

var kindNames = [...]string{"none", "status", "throttled", "auth", "timeout", "connection", "decode", "canceled", "retry-budget"}

// String returns the kind's name as used in reports.
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// EventResult is what one request attempt did to one event.
type EventResult struct {
	ID      string
	Type    events.Type
	Outcome Outcome
	// Message is the server's reason (EventError.message) when the event was
	// named in BatchEventResponse.errors; empty otherwise.
	Message string
	// Retryable is EventError.retryable for a named event.
	Retryable bool
}

// Result is one HTTP attempt carrying one batch, or (Attempt 0) a batch that
// was never sent because the run stopped. The engine produces Results; a
// Collector consumes them. A consumer must not keep r or its slices after
// its Add returns: the engine reuses them.
type Result struct {
	Endpoint events.Endpoint
	// Batch numbers the batch within the run; retries keep the number.
	Batch uint64
	// Attempt is 1 for the first send, 2 and up for retries, 0 when unsent.
	Attempt int
	// FirstIntended is when attempt 1 was due; Intended when this attempt
	// was due. Latency is measured from Intended (open loop, so queueing in
	// the generator counts), end-to-end latency from FirstIntended.
	FirstIntended time.Time
	Intended      time.Time
	// Sent is when the request started; Done when its response was read.
	Sent, Done time.Time
	// Status is the HTTP status, 0 when there was no response.
	Status int
	Kind   ErrorKind
	// Error describes what went wrong (the Genesys error body's message and
	// code, or the transport error). It never holds a credential.
	Error string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// BytesOut is the request body size.
	BytesOut int
	Events   []EventResult
}
