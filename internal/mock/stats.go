package mock

import (
	"strconv"

	"github.com/loadgen/loadgen/internal/events"
)

// Stats is a snapshot of what a Server counted since it started or was last
// reset; GET /mock/stats encodes it. It uses run.json's vocabulary so the
// two can be compared: Accepted counts each eventId once, Rejected counts
// final (non-retryable) rejections, RetryableRejections the others.
type Stats struct {
	// Endpoints is keyed by endpoint name: conversations, presence,
	// routingstatus (all three are always present).
	Endpoints map[string]EndpointStats `json:"endpoints"`
	// EventTypes is keyed by type name (UserEstablishedEvent, …); types
	// with no events are left out.
	EventTypes         map[string]TypeStats `json:"eventTypes"`
	SequenceViolations Violations           `json:"sequenceViolations"`
	Faults             FaultStats           `json:"faults"`
	TokensIssued       int64                `json:"tokensIssued"`
	// TokensRefused counts token requests answered with an error.
	TokensRefused int64 `json:"tokensRefused"`
	// UnknownFields counts fields accepted under Config.AllowUnknownFields.
	UnknownFields int64 `json:"unknownFields"`
	// Conversations is the number of conversations whose state is kept.
	Conversations int `json:"conversations"`
}

// EndpointStats counts one endpoint's requests and events.
type EndpointStats struct {
	// Requests counts every request to the endpoint, whatever its answer.
	Requests int64 `json:"requests"`
	// Accepted counts distinct eventIds taken.
	Accepted int64 `json:"accepted"`
	// Rejected counts events named in errors with retryable false.
	Rejected int64 `json:"rejected"`
	// RetryableRejections counts events named in errors with retryable true.
	RetryableRejections int64 `json:"retryableRejections"`
	// Duplicates counts events whose eventId was already accepted; they
	// were answered as accepted again.
	Duplicates int64 `json:"duplicates"`
	// Throttled counts 429 answers.
	Throttled int64 `json:"throttled"`
	// Faulted counts requests answered with an injected fault (5xx, reset)
	// or abandoned by their client during a stall or injected latency;
	// their events were not processed.
	Faulted int64 `json:"faulted"`
	// FaultedEvents counts the events of the Faulted requests.
	FaultedEvents int64 `json:"faultedEvents"`
	// BytesIn counts request body bytes read.
	BytesIn int64 `json:"bytesIn"`
	// StatusCodes counts answers by HTTP status ("reset" for resets).
	StatusCodes map[string]int64 `json:"statusCodes"`
}

// TypeStats counts one event type.
type TypeStats struct {
	Accepted            int64 `json:"accepted"`
	Rejected            int64 `json:"rejected"`
	RetryableRejections int64 `json:"retryableRejections"`
	Duplicates          int64 `json:"duplicates"`
}

// Violations counts life-cycle rule breaks by kind (docs/contracts.md);
// Total is their sum.
type Violations struct {
	Total            int64 `json:"total"`
	UnknownLeg       int64 `json:"unknownLeg"`
	AfterEnd         int64 `json:"afterEnd"`
	DuplicateLeg     int64 `json:"duplicateLeg"`
	UnknownCommand   int64 `json:"unknownCommand"`
	UnknownReference int64 `json:"unknownReference"`
	DuplicateEventID int64 `json:"duplicateEventId"`
}

// FaultStats counts injected faults.
type FaultStats struct {
	// Errors counts 5xx answers by status.
	Errors map[string]int64 `json:"errors"`
	Resets int64            `json:"resets"`
	// Stalls counts requests held by a stall; StallTimeouts those whose
	// client gave up first (not processed).
	Stalls        int64 `json:"stalls"`
	StallTimeouts int64 `json:"stallTimeouts"`
	// Delayed counts requests given injected latency; Abandoned those
	// whose client gave up during it (not processed).
	Delayed    int64 `json:"delayed"`
	Abandoned  int64 `json:"abandoned"`
	SlowBodies int64 `json:"slowBodies"`
	// Rejected and RejectedRetryable count per-event injected rejections.
	Rejected          int64 `json:"rejected"`
	RejectedRetryable int64 `json:"rejectedRetryable"`
}

// counters are the live counts behind Stats, guarded by Server.mu.
type counters struct {
	ep            [events.NumEndpoints]epCounters
	types         [events.NumTypes]TypeStats
	viol          Violations
	faults        FaultStats
	tokensIssued  int64
	tokensRefused int64
	unknownFields int64
}

type epCounters struct {
	EndpointStats
	status map[int]int64 // 0 = reset
}

func (c *epCounters) answered(status int) {
	if c.status == nil {
		c.status = map[int]int64{}
	}
	c.status[status]++
}

func (c *counters) snapshot(conversations int) Stats {
	st := Stats{
		Endpoints:          map[string]EndpointStats{},
		EventTypes:         map[string]TypeStats{},
		SequenceViolations: c.viol,
		Faults:             c.faults,
		TokensIssued:       c.tokensIssued,
		TokensRefused:      c.tokensRefused,
		UnknownFields:      c.unknownFields,
		Conversations:      conversations,
	}
	st.Faults.Errors = map[string]int64{}
	for k, n := range c.faults.Errors {
		st.Faults.Errors[k] = n
	}
	for _, ep := range events.Endpoints() {
		e := c.ep[ep].EndpointStats
		e.StatusCodes = map[string]int64{}
		for code, n := range c.ep[ep].status {
			k := strconv.Itoa(code)
			if code == 0 {
				k = "reset"
			}
			e.StatusCodes[k] = n
		}
		st.Endpoints[ep.String()] = e
	}
	for _, t := range events.Types() {
		if ts := c.types[t]; ts != (TypeStats{}) {
			st.EventTypes[t.String()] = ts
		}
	}
	return st
}
