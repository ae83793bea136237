package engine

import (
	"context"

	"github.com/loadgen/loadgen/internal/events"
)

// Source supplies the events of a run in order of their intended send time
// (At never decreases). Next returns io.EOF after the last event. A Source
// is used by one goroutine.
type Source interface {
	Next(ctx context.Context) (events.Timed, error)
}
