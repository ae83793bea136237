package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// liveSource gives the progress display cheap snapshots of the ledger.
type liveSource interface {
	Live() report.Live
}

// progress draws one bar per endpoint on stderr: events sent / planned,
// events/s, errors, ETA. It draws nothing when stderr is not a terminal or
// under --quiet, so logs and CI output stay clean.
type progress struct {
	p      *mpb.Progress
	bars   [events.NumEndpoints]*mpb.Bar
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// isTerminal reports whether w is a character device (a TTY).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startProgress starts the display, or returns nil when it should not draw.
func startProgress(ctx context.Context, stderr io.Writer, quiet bool, planned [events.NumEndpoints]int, live liveSource) *progress {
	if quiet || !isTerminal(stderr) {
		return nil
	}
	// The container lives on the run's context; the updater has its own so
	// stop can end it and still draw the final counts.
	pr := &progress{}
	pr.p = mpb.NewWithContext(ctx, mpb.WithOutput(stderr), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond))
	ctx, pr.cancel = context.WithCancel(ctx)
	start := time.Now()
	for _, ep := range events.Endpoints() {
		ep := ep
		total := int64(max(planned[ep], 1))
		pr.bars[ep] = pr.p.AddBar(total,
			mpb.PrependDecorators(
				decor.Name(ep.String(), decor.WC{W: 14, C: decor.DindentRight}),
				decor.CountersNoUnit("%d / %d", decor.WC{W: 16}),
			),
			mpb.AppendDecorators(
				decor.Any(func(s decor.Statistics) string {
					l := live.Live().Endpoints[ep]
					el := time.Since(start).Seconds()
					rate := 0.0
					if el > 0 {
						rate = float64(l.Sent) / el
					}
					return fmt.Sprintf(" %7.0f ev/s  errors %d", rate, l.Errors)
				}),
				decor.Name("  ETA "),
				decor.AverageETA(decor.ET_STYLE_GO),
			),
		)
	}
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l := live.Live()
				for _, ep := range events.Endpoints() {
					n := l.Endpoints[ep].Sent
					b := pr.bars[ep]
					if n > int64(planned[ep]) {
						// The plan is an estimate; grow the bar rather than overflow it.
						b.SetTotal(int64(n), false)
					}
					b.SetCurrent(int64(n))
				}
			}
		}
	}()
	return pr
}

// stop completes the bars and waits for the display to finish drawing.
func (pr *progress) stop(live liveSource) {
	if pr == nil {
		return
	}
	pr.cancel()
	pr.wg.Wait()
	l := live.Live()
	for _, ep := range events.Endpoints() {
		pr.bars[ep].SetCurrent(int64(l.Endpoints[ep].Sent))
		pr.bars[ep].SetTotal(int64(l.Endpoints[ep].Sent), true)
	}
	pr.p.Wait()
}
