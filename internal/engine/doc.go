// Package engine sends a stream of timed events to an Events API target:
// it batches them per endpoint (at most 100 events and 512,000 bytes, a
// linger time, per-key order kept), paces requests open-loop against their
// intended send times under rate limits (golang.org/x/time/rate), sends them
// from a bounded worker pool through an HTTP client with OAuth2
// client-credentials, retries and Retry-After, and reports one
// report.Result per attempt.
//
// # Flow
//
// One scheduler goroutine takes events from the Source at their due times
// (Start + At) and adds each to an open batch of its endpoint. A key is
// bound to a lane only while it has events outstanding there (in an open
// batch, queued, in flight or waiting for a retry); a key with none goes to
// the endpoint's fill lane, so at low rates an endpoint's events share one
// batch, and at high rates, when the fill lane's batch fills up while the
// lane is busy, the fill lane moves to an idle one. A batch closes when it
// is full, when its oldest event has lingered, or when its lane needs room
// for another: an event that would exceed MaxEvents or MaxBytes, or would
// reorder its key inside the body (AppendBatch groups events by type), goes
// to a later open batch of the same lane (up to four are open per lane).
// A closed batch gets its intended send time — its close time on the
// schedule, pushed later by the rate limiters, whose slots are reserved at
// that schedule time — and waits in its lane's bounded queue. Each lane is
// one goroutine that sends one request at a time, in the order its batches
// were opened, so a key's events reach each endpoint in order and a lane
// paused by Retry-After holds up only the keys bound to it. (Order across
// endpoints is not kept: they are separate APIs. An event resent after a
// retryable per-event error does arrive after the events of its batch that
// were taken the first time.) When the target stalls, the queues fill, the
// scheduler waits, and the delay shows as schedule lag (Sent − Intended).
//
// # Outcomes
//
// Every event taken from the Source ends in exactly one final outcome
// reported through the Sink: Accepted, Rejected (named in the response's
// errors, with the server's message), Failed (after the retries, or
// cancelled in flight), or Unsent (the run stopped first; reported in
// Attempt 0 Results). Retry outcomes in between are not final.
//
// # Stopping
//
// Cancelling Run's context stops taking events and starting requests;
// in-flight requests get DrainTimeout to finish. Repeated 401/403 answers
// or a refused token stop the run with an error wrapping ErrAuth.
package engine
