package engine

import (
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// Sink receives what a run does. Implementations must be safe for
// concurrent calls to Add.
type Sink interface {
	// Generated is called once per event taken from the Source, from one
	// goroutine, before the event is batched. ev is only valid during the
	// call.
	Generated(ev *events.Timed)
	// Add is called once per attempt and once per batch that was never
	// sent (Attempt 0), concurrently from several goroutines. r and its
	// slices are reused after Add returns: copy what you keep.
	Add(r *report.Result)
}

// Summary tells how a run ended; Run returns it by value. Counts are events unless named otherwise;
// Generated == Accepted + Rejected + Failed + Unsent always holds.
type Summary struct {
	Start, End time.Time
	// Cause is why the run stopped early: nil when the source ran dry,
	// context.Cause of the caller's context when it was cancelled, or the
	// error that stopped it (for example one wrapping ErrAuth).
	Cause error

	Generated, Accepted, Rejected, Failed, Unsent uint64
	// Requests counts HTTP attempts; Retries those after the first (auth
	// resends included); Batches the batches built.
	Requests, Retries, Batches uint64
	// BytesOut is the sum of request body sizes.
	BytesOut uint64
}
