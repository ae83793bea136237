package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// ReplayOptions shape a replay. The zero value is not "as recorded": a zero
// Speed means as fast as possible, so set Speed to 1 for original timing.
type ReplayOptions struct {
	// Speed divides the offsets: 2 replays twice as fast, 0.5 half as fast.
	// 0 or +Inf means as fast as possible (every offset 0).
	Speed float64
	// From and To cut the window [From, To) out of the capture's offsets;
	// To 0 means to the end. The replay starts at From: offsets are
	// relative to it.
	From, To time.Duration
	// Loop plays the window this many times (0 and 1 mean once). Each loop
	// starts where the one before ended (offset by its span) and gets its own
	// fresh IDs, since sending the same eventIds and legs again would break
	// every life-cycle rule of the target.
	Loop int
	// RewriteIDs gives the first loop fresh IDs too (see Rewriter).
	RewriteIDs bool
	// RunID salts the new IDs: the same RunID always gives the same IDs.
	RunID string
	// ShiftTime moves every eventDateTime by now − the first replayed
	// event's eventDateTime (plus the loop offset in later loops), so the
	// replay looks like it happens now.
	ShiftTime bool
	// Now is the clock for ShiftTime; nil means time.Now. It is read once,
	// when the first event is taken.
	Now func() time.Time
}

// ErrOptions is wrapped by Replay when the options are invalid.
var ErrOptions = errors.New("recorder: invalid replay options")

// Replay wraps src, a source in capture time, into the source a run sends:
// offsets cut to the window and divided by the speed, the window looped,
// IDs rewritten and times shifted as opts ask. It only produces offsets; the
// engine schedules them against one start time, so a replay never drifts.
// For Loop > 1 a Reader from Open is rewound for every loop; any other
// source is kept in memory during the first loop.
func Replay(src Source, opts ReplayOptions) (Source, error) {
	switch {
	case opts.Speed < 0 || math.IsNaN(opts.Speed):
		return nil, fmt.Errorf("%w: speed %v: want a positive factor, or max", ErrOptions, opts.Speed)
	case opts.From < 0 || opts.To < 0:
		return nil, fmt.Errorf("%w: from %v / to %v: want non-negative offsets", ErrOptions, opts.From, opts.To)
	case opts.To > 0 && opts.To <= opts.From:
		return nil, fmt.Errorf("%w: to %v is not after from %v", ErrOptions, opts.To, opts.From)
	case opts.Loop < 0:
		return nil, fmt.Errorf("%w: loop %d", ErrOptions, opts.Loop)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &replayer{src: src, opts: opts, loops: max(opts.Loop, 1)}
	if rw, ok := src.(*Reader); ok && rw.canRewind() {
		p.rewind = rw.Rewind
	} else if p.loops > 1 {
		p.buffer = true
	}
	if opts.RewriteIDs {
		p.rw = NewRewriter(opts.RunID)
	}
	return p, nil
}

type replayer struct {
	src    Source
	opts   ReplayOptions
	loops  int
	rewind func() error

	buffer bool           // keep loop 0 in memory for later loops
	kept   []events.Timed // loop 0's window, with relative offsets
	pos    int            // next index into kept in loops ≥ 1

	loop     int
	loopDone bool          // the window of this loop is over
	span     time.Duration // last relative offset seen in loop 0
	offset   time.Duration // loop offset: span × loop
	any      bool          // loop 0 had at least one event

	rw       *Rewriter
	shift    time.Duration
	haveBase bool
	chunk    []byte
}

func (p *replayer) Next(ctx context.Context) (events.Timed, error) {
	for {
		ev, err := p.take(ctx)
		if err == io.EOF {
			if p.loop+1 >= p.loops || !p.any {
				return events.Timed{}, io.EOF
			}
			if err := p.nextLoop(); err != nil {
				return events.Timed{}, err
			}
			continue
		}
		if err != nil {
			return events.Timed{}, err
		}
		out, err := p.transform(ev)
		if err != nil {
			return events.Timed{}, err
		}
		return out, nil
	}
}

// take returns the next event of the window with its offset relative to
// From, or io.EOF when this loop's window is over.
func (p *replayer) take(ctx context.Context) (events.Timed, error) {
	if p.loopDone {
		return events.Timed{}, io.EOF
	}
	if p.loop > 0 && p.buffer {
		if err := ctx.Err(); err != nil {
			return events.Timed{}, err
		}
		if p.pos >= len(p.kept) {
			p.loopDone = true
			return events.Timed{}, io.EOF
		}
		p.pos++
		return p.kept[p.pos-1], nil
	}
	for {
		ev, err := p.src.Next(ctx)
		if err == io.EOF {
			p.loopDone = true
		}
		if err != nil {
			return events.Timed{}, err
		}
		if ev.At < p.opts.From {
			continue
		}
		if p.opts.To > 0 && ev.At >= p.opts.To {
			// Offsets never decrease: nothing later is in the window.
			p.loopDone = true
			return events.Timed{}, io.EOF
		}
		ev.At -= p.opts.From
		if p.loop == 0 {
			p.span, p.any = ev.At, true
			if p.buffer {
				p.kept = append(p.kept, ev)
			}
		}
		return ev, nil
	}
}

func (p *replayer) nextLoop() error {
	p.loop++
	p.offset = p.span * time.Duration(p.loop)
	p.loopDone = false
	p.pos = 0
	p.rw = NewRewriter(p.opts.RunID + "#" + strconv.Itoa(p.loop))
	if !p.buffer && p.rewind != nil {
		if err := p.rewind(); err != nil {
			return fmt.Errorf("recorder: loop %d: %w", p.loop+1, err)
		}
	} else if !p.buffer {
		return fmt.Errorf("recorder: loop %d: %w", p.loop+1, ErrNoRewind)
	}
	return nil
}

// transform applies speed, loop offset, ID rewriting and time shift.
func (p *replayer) transform(ev events.Timed) (events.Timed, error) {
	at := ev.At + p.offset
	switch {
	case p.opts.Speed == 0 || math.IsInf(p.opts.Speed, 1):
		at = 0
	case p.opts.Speed != 1:
		at = time.Duration(float64(at) / p.opts.Speed)
	}
	if p.opts.ShiftTime && !p.haveBase {
		raw, _, err := topStrings(ev.JSON, "eventDateTime", "")
		if err != nil {
			return events.Timed{}, fmt.Errorf("recorder: replay: event %s: %w: %w", ev.ID, ErrBadCapture, err)
		}
		if raw != nil {
			t, err := parseDateTime(raw)
			if err != nil {
				return events.Timed{}, fmt.Errorf("recorder: replay: event %s: %w", ev.ID, err)
			}
			p.shift, p.haveBase = p.opts.Now().Sub(t), true
		}
	}
	if p.rw == nil && !p.opts.ShiftTime {
		return events.Timed{At: at, Event: ev.Event}, nil
	}
	if cap(p.chunk)-len(p.chunk) < len(ev.JSON)+64 {
		p.chunk = make([]byte, 0, max(chunkSize, 2*len(ev.JSON)))
	}
	start := len(p.chunk)
	shift := p.shift + p.offset
	var timeErr error
	out, err := transform(p.chunk, ev.JSON, func(dst []byte, depth int, key, val []byte) ([]byte, error) {
		k := key[1 : len(key)-1]
		if p.rw != nil && idFields[string(k)] {
			return p.rw.rewriteValue(dst, val), nil
		}
		if p.opts.ShiftTime && depth == 1 && string(k) == "eventDateTime" {
			t, err := parseDateTime(val)
			if err != nil {
				timeErr = err
				return dst, err
			}
			return events.AppendDateTime(dst, t.Add(shift)), nil
		}
		return append(dst, val...), nil
	})
	if timeErr != nil {
		return events.Timed{}, fmt.Errorf("recorder: replay: event %s: %w", ev.ID, timeErr)
	}
	if err != nil {
		return events.Timed{}, fmt.Errorf("recorder: replay: event %s: %w: %w", ev.ID, ErrBadCapture, err)
	}
	p.chunk = out
	js := out[start:len(out):len(out)]
	e, err := finishEvent(ev.Event, js)
	if err != nil {
		return events.Timed{}, fmt.Errorf("recorder: replay: event %s: %w: %w", ev.ID, ErrBadCapture, err)
	}
	return events.Timed{At: at, Event: e}, nil
}

func parseDateTime(raw []byte) (time.Time, error) {
	s, _ := unquote(raw)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("eventDateTime %q is not an ISO-8601 time: %w", s, ErrBadCapture)
	}
	return t, nil
}
