package recorder

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Kind is the header's "kind" value that marks a capture file.
const Kind = "loadgen-capture"

// Version is the capture format version this package writes and the newest
// it reads.
const Version = 1

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("recorder: writer closed")

// Source supplies timed events in order of At (At never decreases) and
// returns io.EOF after the last. It has the shape of engine.Source, so the
// engine takes a recorder Source as is. A Source is used by one goroutine.
type Source interface {
	Next(ctx context.Context) (events.Timed, error)
}

// Header is a capture's first line. It describes where the events came from
// and never holds a secret: it has no field that could carry one.
type Header struct {
	Kind    string    `json:"kind"`    // always "loadgen-capture"
	Version int       `json:"version"` // format version, 1
	Created time.Time `json:"created"` // when the capture was started; set it for byte-identical output
	// Source says what wrote the capture: "run", "proxy" or "replay".
	Source       string `json:"source,omitempty"`
	Scenario     string `json:"scenario,omitempty"`
	ScenarioHash string `json:"scenarioHash,omitempty"`
	Seed         int64  `json:"seed,omitempty"`
}

// flushSize is the buffered amount at which Write hands whole lines to the
// file; a write never ends mid-line, so a killed process leaves whole lines.
const flushSize = 64 << 10

// Writer writes a capture. Lines are encoded by appending into one buffer (no
// reflection per event) and reach the file only as whole lines. A Writer is
// safe for concurrent use; the caller must Close it to flush the tail.
type Writer struct {
	mu     sync.Mutex // guards everything below
	out    io.Writer  // the file, or gz
	gz     *gzip.Writer
	file   io.Closer // nil for NewWriter
	buf    []byte
	last   time.Duration
	err    error // sticky write error
	closed bool
}

// Create creates (or truncates) the capture file path and writes h as its
// header. A name ending in .gz is gzip-compressed. Kind and Version are
// filled in when zero; a zero Created is set to the current time.
func Create(path string, h Header) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	w, err := newWriter(f, h, strings.HasSuffix(path, ".gz"))
	if err != nil {
		f.Close()
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter writes a capture with header h to out, uncompressed. Close
// flushes but does not close out.
func NewWriter(out io.Writer, h Header) (*Writer, error) {
	return newWriter(out, h, false)
}

func newWriter(out io.Writer, h Header, compress bool) (*Writer, error) {
	if h.Kind == "" {
		h.Kind = Kind
	}
	if h.Kind != Kind {
		return nil, fmt.Errorf("recorder: header kind %q, want %q", h.Kind, Kind)
	}
	if h.Version == 0 {
		h.Version = Version
	}
	if h.Version != Version {
		return nil, fmt.Errorf("recorder: header version %d: this loadgen writes version %d: %w", h.Version, Version, ErrVersion)
	}
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	h.Created = h.Created.UTC()
	w := &Writer{out: out, buf: make([]byte, 0, flushSize+4<<10)}
	if compress {
		w.gz = gzip.NewWriter(out)
		w.out = w.gz
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("recorder: header: %w", err)
	}
	w.buf = append(append(w.buf, hj...), '\n')
	// The header goes out at once so even an empty capture is readable.
	if err := w.flushLocked(); err != nil {
		return nil, err
	}
	return w, nil
}

// Write appends one event line. At must not be smaller than that of the
// event written before (ErrBadCapture otherwise), since a reader refuses
// offsets that go backwards. Write is safe for concurrent use.
func (w *Writer) Write(ev events.Timed) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeLocked(ev.At, ev.Type, ev.JSON)
}

func (w *Writer) writeLocked(at time.Duration, t events.Type, js []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if int(t) >= events.NumTypes {
		return fmt.Errorf("recorder: write: event type %d: %w", t, ErrBadCapture)
	}
	if at < w.last || at < 0 {
		return fmt.Errorf("recorder: write: offset %v before the previous %v: %w", at, w.last, ErrBadCapture)
	}
	if len(js) == 0 {
		return fmt.Errorf("recorder: write: %s with no JSON: %w", t, ErrBadCapture)
	}
	w.last = at
	start := len(w.buf)
	w.buf = appendLine(w.buf, at, t, js)
	if bytes.IndexByte(w.buf[start:], '\n') != len(w.buf)-start-1 {
		// A multi-line object (a pretty-printing producer behind the proxy)
		// would break NDJSON: put it on one line.
		var c bytes.Buffer
		if err := json.Compact(&c, js); err != nil {
			w.buf = w.buf[:start]
			return fmt.Errorf("recorder: write: %s: %w: %w", t, ErrBadCapture, err)
		}
		w.buf = appendLine(w.buf[:start], at, t, c.Bytes())
	}
	if len(w.buf) >= flushSize {
		return w.flushLocked()
	}
	return nil
}

// appendLine appends one capture line for an event.
func appendLine(buf []byte, at time.Duration, t events.Type, js []byte) []byte {
	buf = append(buf, `{"offsetMs":`...)
	buf = appendOffset(buf, at)
	buf = append(buf, `,"endpoint":"`...)
	buf = append(buf, t.Endpoint().String()...)
	buf = append(buf, `","type":"`...)
	buf = append(buf, t.String()...)
	buf = append(buf, `","event":`...)
	buf = append(buf, js...)
	return append(buf, '}', '\n')
}

// appendOffset writes d in milliseconds with up to six decimals: exact to
// the nanosecond, with no float formatting on the hot path.
func appendOffset(buf []byte, d time.Duration) []byte {
	ns := int64(d)
	ms := ns / 1e6
	frac := ns % 1e6
	buf = appendUint(buf, uint64(ms))
	if frac == 0 {
		return buf
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	buf = append(buf, '.')
	return append(buf, digits[:n]...)
}

func appendUint(buf []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(buf, tmp[i:]...)
}

// Flush hands all buffered lines to the file (and, for gzip, flushes the
// compressor), so a process killed afterwards loses nothing written so far.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		// One Write call per batch of whole lines: a kill between calls
		// leaves the file ending on a line boundary.
		if _, err := w.out.Write(w.buf); err != nil {
			w.err = fmt.Errorf("recorder: %w", err)
			return w.err
		}
		w.buf = w.buf[:0]
	}
	if w.gz != nil {
		if err := w.gz.Flush(); err != nil {
			w.err = fmt.Errorf("recorder: %w", err)
			return w.err
		}
	}
	return nil
}

// Close flushes the buffered lines, finishes the gzip stream, and closes the
// file that Create opened. It is safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flushLocked()
	if w.gz != nil {
		if cerr := w.gz.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("recorder: %w", cerr)
		}
	}
	if w.file != nil {
		if cerr := w.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("recorder: %w", cerr)
		}
	}
	return err
}

// Tee returns a Source that yields src's events unchanged and writes each to
// w as it is taken, so the capture holds exactly what the engine consumed.
// A write error ends the stream with that error. Like any Source, the result
// is used by one goroutine; closing w stays the caller's job.
func Tee(src Source, w *Writer) Source { return &tee{src: src, w: w} }

type tee struct {
	src Source
	w   *Writer
}

func (t *tee) Next(ctx context.Context) (events.Timed, error) {
	ev, err := t.src.Next(ctx)
	if err != nil {
		return ev, err
	}
	if err := t.w.Write(ev); err != nil {
		return events.Timed{}, fmt.Errorf("recorder: tee: %w", err)
	}
	return ev, nil
}
