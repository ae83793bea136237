// Package engine sends a stream of timed events to an Events API target:
// it batches them per endpoint (at most 100 events and 512,000 bytes, a
// linger time, per-key order kept), paces requests open-loop against their
// intended send times under rate limits (golang.org/x/time/rate), sends them
// from a bounded worker pool through an HTTP client with OAuth2
// client-credentials, retries and Retry-After, and reports one
// report.Result per attempt.
package engine
