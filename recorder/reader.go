package recorder

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Format is the kind of file a Reader found.
type Format uint8

// Input formats.
const (
	FormatCapture Format = iota // loadgen capture: header line, then one event per line
	FormatBodyLog               // one JSON batch request body per line
)

// String returns "capture" or "body-log".
func (f Format) String() string {
	if f == FormatBodyLog {
		return "body-log"
	}
	return "capture"
}

// ReadOptions tune a Reader.
type ReadOptions struct {
	// SkipBad makes Next skip a bad line and count it (Reader.Skipped)
	// instead of failing. A bad header is never skipped.
	SkipBad bool
}

// Reader reads a capture or a plain log of request bodies as a Source. It
// detects gzip by its magic bytes and the format by the first line: a
// capture starts with a {"kind":"loadgen-capture",…} header, anything else
// is read as a body log. Errors are *LineError values naming file, line and
// field. A Reader is used by one goroutine.
//
// In a body log each line is one batch body such as {"userPresenceEvents":[…]};
// the endpoint is inferred from its properties and each event is timed by its
// eventDateTime relative to the first event of the file. An event timed
// earlier than one before it keeps body order and is sent with it (its offset
// is raised to the previous one), because replaying a leg's events out of
// order would break the conversation.
type Reader struct {
	name string
	opts ReadOptions

	file   *os.File      // set by Open; closed by Close
	seeker io.ReadSeeker // nil when the input cannot rewind
	raw    *bufio.Reader // the input as stored
	gz     *gzip.Reader  // non-nil for gzip input
	br     *bufio.Reader // the decompressed text

	format    Format
	header    Header
	firstBody []byte // a body log's first line, read while detecting the format

	line      int
	last      time.Duration
	skipped   int
	truncated bool
	rewound   bool
	lineBuf   []byte
	chunk     []byte

	pending []events.Timed // the rest of a body-log batch
	t0      time.Time      // body log: eventDateTime of the first event
	haveT0  bool
}

const chunkSize = 64 << 10

// Open opens a capture or body log. The caller must Close the Reader.
func Open(path string, opts ReadOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	r, err := newReader(f, f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a capture or body log from in; name is used in error
// messages. If in is an io.ReadSeeker the Reader can rewind (for looping).
func NewReader(in io.Reader, name string, opts ReadOptions) (*Reader, error) {
	s, _ := in.(io.ReadSeeker)
	return newReader(in, s, name, opts)
}

func newReader(in io.Reader, s io.ReadSeeker, name string, opts ReadOptions) (*Reader, error) {
	r := &Reader{name: name, opts: opts, seeker: s, raw: bufio.NewReaderSize(in, 64<<10)}
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

// start detects compression and format and reads the header.
func (r *Reader) start() error {
	magic, _ := r.raw.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if r.gz == nil {
			r.gz, err = gzip.NewReader(r.raw)
		} else {
			err = r.gz.Reset(r.raw)
		}
		if err != nil {
			return fmt.Errorf("recorder: %s: gzip: %w: %w", r.name, ErrBadCapture, err)
		}
		if r.br == nil {
			r.br = bufio.NewReaderSize(r.gz, 64<<10)
		} else {
			r.br.Reset(r.gz)
		}
	} else {
		r.br = r.raw
	}
	for {
		line, _, err := r.readLine()
		if err == io.EOF && len(line) == 0 {
			// An empty file is an empty capture.
			r.header = Header{Kind: Kind, Version: Version}
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return r.detect(line)
	}
}

func (r *Reader) detect(line []byte) error {
	if !json.Valid(line) || bytes.TrimSpace(line)[0] != '{' {
		return r.lineErr("", KindMalformed, "first line is neither a capture header nor a JSON batch body", nil)
	}
	kind, offset, err := topStrings(line, "kind", "offsetMs")
	if err != nil {
		return r.lineErr("", KindMalformed, "first line is not a JSON object", err)
	}
	if kind == nil {
		if _, _, ok := firstKeyIs(line, "offsetMs"); ok || offset != nil {
			return r.lineErr("", KindHeader, "capture has no header line", nil)
		}
		r.format = FormatBodyLog
		r.firstBody = append([]byte(nil), line...)
		return nil
	}
	var h Header
	if err := json.Unmarshal(line, &h); err != nil {
		return r.lineErr("header", KindHeader, "cannot decode", err)
	}
	switch {
	case h.Kind != Kind:
		return r.lineErr("kind", KindHeader, fmt.Sprintf("%q is not %q", h.Kind, Kind), nil)
	case h.Version > Version:
		return r.lineErr("version", KindVersion, fmt.Sprintf("capture format version %d is newer than this loadgen reads (%d); use a newer loadgen", h.Version, Version), nil)
	case h.Version < 1:
		return r.lineErr("version", KindHeader, fmt.Sprintf("version %d, want %d", h.Version, Version), nil)
	}
	r.format = FormatCapture
	r.header = h
	return nil
}

// firstKeyIs reports the first key of obj and whether it equals name.
func firstKeyIs(obj []byte, name string) (string, int, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return "", 0, false
	}
	i = skipSpace(obj, i+1)
	if i >= len(obj) || obj[i] != '"' {
		return "", 0, false
	}
	end := stringEnd(obj, i)
	if end < 0 {
		return "", 0, false
	}
	k, _ := unquote(obj[i:end])
	return k, end, k == name
}

// Header returns the capture's header; for a body log it is the zero Header.
func (r *Reader) Header() Header { return r.header }

// Format reports whether the input is a capture or a body log.
func (r *Reader) Format() Format { return r.format }

// Skipped returns how many bad lines SkipBad skipped.
func (r *Reader) Skipped() int { return r.skipped }

// Truncated reports whether the input ended in an incomplete line or an
// incomplete gzip stream, as a killed writer leaves it; the incomplete tail
// was dropped and everything before it was read.
func (r *Reader) Truncated() bool { return r.truncated }

// Close closes the file that Open opened.
func (r *Reader) Close() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}

// ErrNoRewind is returned by Rewind when the input cannot seek.
var ErrNoRewind = errors.New("recorder: input cannot rewind")

// Rewind starts reading again from the first event, as Replay does for
// loops. Lines skipped again are not counted twice.
func (r *Reader) Rewind() error {
	if r.seeker == nil {
		return ErrNoRewind
	}
	if _, err := r.seeker.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("recorder: rewind %s: %w", r.name, err)
	}
	r.raw.Reset(r.seeker)
	r.line, r.last, r.pending, r.haveT0, r.firstBody = 0, 0, nil, false, nil
	r.truncated = false
	r.rewound = true
	return r.start()
}

func (r *Reader) canRewind() bool { return r.seeker != nil }

func (r *Reader) lineErr(field string, kind ErrorKind, msg string, err error) *LineError {
	return &LineError{File: r.name, Line: r.line, Field: field, Kind: kind, Msg: msg, Err: err}
}

// readLine returns the next line without its line end. complete is false
// for a last line with no newline. The slice is valid until the next call.
func (r *Reader) readLine() (line []byte, complete bool, err error) {
	line, err = r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.lineBuf = append(r.lineBuf[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.lineBuf = append(r.lineBuf, line...)
		}
		line = r.lineBuf
	}
	if err == io.ErrUnexpectedEOF {
		// A gzip stream cut short by a killed writer.
		r.truncated = true
		err = io.EOF
	}
	if err != nil && err != io.EOF {
		if r.gz != nil {
			// A corrupt compressed stream is bad input, not an I/O failure.
			return nil, false, &LineError{File: r.name, Line: r.line + 1, Kind: KindMalformed, Msg: "corrupt gzip stream", Err: err}
		}
		return nil, false, fmt.Errorf("recorder: %s: %w", r.name, err)
	}
	if len(line) == 0 {
		return nil, false, err
	}
	r.line++
	complete = line[len(line)-1] == '\n'
	if complete {
		line = line[:len(line)-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, complete, nil
}

// Next returns the next event, io.EOF at the end.
func (r *Reader) Next(ctx context.Context) (events.Timed, error) {
	if err := ctx.Err(); err != nil {
		return events.Timed{}, err
	}
	if r.format == FormatBodyLog {
		return r.nextBody()
	}
	for {
		line, complete, err := r.readLine()
		if err != nil && err != io.EOF {
			return events.Timed{}, err
		}
		if line == nil {
			return events.Timed{}, io.EOF
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, lerr := r.parseLine(line)
		if lerr == nil {
			return ev, nil
		}
		if !complete || r.truncated {
			// The unfinished last line of a killed writer.
			r.truncated = true
			return events.Timed{}, io.EOF
		}
		if r.opts.SkipBad {
			r.countSkip()
			continue
		}
		return events.Timed{}, lerr
	}
}

func (r *Reader) countSkip() {
	if !r.rewound {
		r.skipped++
	}
}

// linePrefix is how the Writer starts every event line; lines in that exact
// shape take the fast path, anything else goes through encoding/json.
const (
	linePrefix  = `{"offsetMs":`
	lineEnd     = `,"endpoint":"`
	lineType    = `","type":"`
	lineEvent   = `","event":`
	maxOffsetMs = float64(math.MaxInt64 / int64(time.Millisecond))
)

func (r *Reader) parseLine(line []byte) (events.Timed, *LineError) {
	offset, ep, typ, ev, ok := splitFast(line)
	if !ok {
		var err *LineError
		if offset, ep, typ, ev, err = r.splitSlow(line); err != nil {
			return events.Timed{}, err
		}
	}
	at, ok := parseOffset(offset)
	if !ok {
		return events.Timed{}, r.lineErr("offsetMs", KindMalformed, fmt.Sprintf("%q is not a non-negative number of milliseconds", offset), nil)
	}
	endpoint, err := events.ParseEndpoint(string(ep))
	if err != nil {
		return events.Timed{}, r.lineErr("endpoint", KindUnknownEndpoint, fmt.Sprintf("unknown endpoint %q", ep), nil)
	}
	t, err := events.ParseType(string(typ))
	if err != nil {
		return events.Timed{}, r.lineErr("type", KindUnknownType, fmt.Sprintf("unknown event type %q", typ), nil)
	}
	if t.Endpoint() != endpoint {
		return events.Timed{}, r.lineErr("type", KindWrongEndpoint, fmt.Sprintf("%s is carried by %s, not %s", t, t.Endpoint(), endpoint), nil)
	}
	if at < r.last {
		return events.Timed{}, r.lineErr("offsetMs", KindBackwards, fmt.Sprintf("%s goes back before the previous line's %s", offset, fmtMs(r.last)), nil)
	}
	e, lerr := r.event(t, ev, "event")
	if lerr != nil {
		return events.Timed{}, lerr
	}
	r.last = at
	return events.Timed{At: at, Event: e}, nil
}

func fmtMs(d time.Duration) string { return string(appendOffset(nil, d)) }

// splitFast cuts a line in the Writer's exact layout into its parts.
func splitFast(line []byte) (offset, ep, typ, ev []byte, ok bool) {
	if !bytes.HasPrefix(line, []byte(linePrefix)) {
		return
	}
	rest := line[len(linePrefix):]
	i := bytes.IndexByte(rest, ',')
	if i < 0 {
		return
	}
	offset, rest = rest[:i], rest[i:]
	if !bytes.HasPrefix(rest, []byte(lineEnd)) {
		return
	}
	rest = rest[len(lineEnd):]
	if i = bytes.IndexByte(rest, '"'); i < 0 {
		return
	}
	ep, rest = rest[:i], rest[i:]
	if !bytes.HasPrefix(rest, []byte(lineType)) {
		return
	}
	rest = rest[len(lineType):]
	if i = bytes.IndexByte(rest, '"'); i < 0 {
		return
	}
	typ, rest = rest[:i], rest[i:]
	if !bytes.HasPrefix(rest, []byte(lineEvent)) {
		return
	}
	rest = bytes.TrimRight(rest[len(lineEvent):], " \t")
	if len(rest) < 2 || rest[len(rest)-1] != '}' {
		return
	}
	ev = rest[:len(rest)-1]
	if bytes.IndexByte(ep, '\\') >= 0 || bytes.IndexByte(typ, '\\') >= 0 || !validJSON(ev) {
		return
	}
	return offset, ep, typ, ev, true
}

// captureLine is a line in any layout encoding/json accepts.
type captureLine struct {
	OffsetMs json.RawMessage `json:"offsetMs"`
	Endpoint *string         `json:"endpoint"`
	Type     *string         `json:"type"`
	Event    json.RawMessage `json:"event"`
}

func (r *Reader) splitSlow(line []byte) (offset, ep, typ, ev []byte, lerr *LineError) {
	var l captureLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, nil, nil, nil, r.lineErr("", KindMalformed, "not a capture line", err)
	}
	if dec.More() {
		return nil, nil, nil, nil, r.lineErr("", KindMalformed, "data after the JSON object", nil)
	}
	switch {
	case l.OffsetMs == nil:
		return nil, nil, nil, nil, r.lineErr("offsetMs", KindMalformed, "missing", nil)
	case l.Endpoint == nil:
		return nil, nil, nil, nil, r.lineErr("endpoint", KindMalformed, "missing", nil)
	case l.Type == nil:
		return nil, nil, nil, nil, r.lineErr("type", KindMalformed, "missing", nil)
	case l.Event == nil:
		return nil, nil, nil, nil, r.lineErr("event", KindMalformed, "missing", nil)
	}
	return l.OffsetMs, []byte(*l.Endpoint), []byte(*l.Type), l.Event, nil
}

// parseOffset reads milliseconds, exact to the nanosecond for up to six
// decimals; other number forms go through strconv.
func parseOffset(b []byte) (time.Duration, bool) {
	var ms, frac int64
	i, n := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && i < 13; i++ {
		ms = ms*10 + int64(b[i]-'0')
	}
	if i > 0 && i < len(b) && b[i] == '.' {
		j := i + 1
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9' && n < 6; j++ {
			frac = frac*10 + int64(b[j]-'0')
			n++
		}
		if j == len(b) && n > 0 {
			for ; n < 6; n++ {
				frac *= 10
			}
			return time.Duration(ms)*time.Millisecond + time.Duration(frac), true
		}
	} else if i > 0 && i == len(b) {
		return time.Duration(ms) * time.Millisecond, true
	}
	if !validJSON(b) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f < 0 || math.IsNaN(f) || f >= maxOffsetMs {
		return 0, false
	}
	return time.Duration(math.Round(f * 1e6)), true
}

// orderField is the field whose value orders an endpoint's events.
func orderField(ep events.Endpoint) string {
	switch ep {
	case events.Presence:
		return "userId"
	case events.RoutingStatus:
		return "agentId"
	default:
		return "conversationId"
	}
}

// event checks one event object and copies it into the Reader's chunk.
func (r *Reader) event(t events.Type, js []byte, field string) (events.Event, *LineError) {
	js = bytes.TrimSpace(js)
	if len(js) == 0 || js[0] != '{' {
		return events.Event{}, r.lineErr(field, KindMalformed, "not a JSON object", nil)
	}
	idRaw, keyRaw, err := topStrings(js, "eventId", orderField(t.Endpoint()))
	if err != nil {
		return events.Event{}, r.lineErr(field, KindMalformed, "not a JSON object", err)
	}
	id, _ := unquote(idRaw)
	if id == "" {
		return events.Event{}, r.lineErr(field+".eventId", KindMissingID, "missing or empty", nil)
	}
	if cap(r.chunk)-len(r.chunk) < len(js) {
		r.chunk = make([]byte, 0, max(chunkSize, len(js)))
	}
	start := len(r.chunk)
	r.chunk = append(r.chunk, js...)
	return events.Event{Type: t, ID: id, Key: keyOfRaw(keyRaw), JSON: r.chunk[start:len(r.chunk):len(r.chunk)]}, nil
}

// keyOfRaw is events.KeyOf of a raw quoted JSON string, without allocating
// when it has no escapes.
func keyOfRaw(raw []byte) uint64 {
	if len(raw) < 2 {
		return events.KeyOf("")
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		s, _ := unquote(raw)
		return events.KeyOf(s)
	}
	h := uint64(14695981039346656037)
	for _, c := range inner {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// nextBody returns the next event of a body log.
func (r *Reader) nextBody() (events.Timed, error) {
	for len(r.pending) == 0 {
		var line []byte
		complete := true
		if r.firstBody != nil {
			line, r.firstBody = r.firstBody, nil
		} else {
			var err error
			line, complete, err = r.readLine()
			if err != nil && err != io.EOF {
				return events.Timed{}, err
			}
			if line == nil {
				return events.Timed{}, io.EOF
			}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if lerr := r.parseBody(line); lerr != nil {
			if !complete || r.truncated {
				r.truncated = true
				return events.Timed{}, io.EOF
			}
			if r.opts.SkipBad {
				r.countSkip()
				continue
			}
			return events.Timed{}, lerr
		}
	}
	ev := r.pending[0]
	r.pending = r.pending[1:]
	return ev, nil
}

// parseBody splits one batch body into pending events. On error nothing is
// queued, so a skipped line is skipped whole.
func (r *Reader) parseBody(line []byte) *LineError {
	if !json.Valid(line) {
		return r.lineErr("", KindMalformed, "not a JSON batch body", nil)
	}
	prop, _, _ := firstKeyIs(line, "")
	if prop == "" {
		// An empty body {} carries nothing; anything else is not a body.
		if bytes.Equal(bytes.Join(bytes.Fields(line), nil), []byte("{}")) {
			return nil
		}
		return r.lineErr("", KindMalformed, "not a JSON batch body", nil)
	}
	t, ok := events.TypeForProperty(prop)
	if !ok {
		return r.lineErr(prop, KindUnknownType, "not an event array of any endpoint", nil)
	}
	ep := t.Endpoint()
	raws, err := events.SplitBatch(ep, line)
	if err != nil {
		return r.lineErr("", KindWrongEndpoint, "not a "+ep.String()+" batch body", err)
	}
	last, t0, haveT0 := r.last, r.t0, r.haveT0
	out := make([]events.Timed, 0, len(raws))
	counts := map[events.Type]int{}
	for _, raw := range raws {
		field := fmt.Sprintf("%s[%d]", raw.Type.BatchProperty(), counts[raw.Type])
		counts[raw.Type]++
		e, lerr := r.event(raw.Type, raw.JSON, field)
		if lerr != nil {
			return lerr
		}
		dtRaw, _, err := topStrings(e.JSON, "eventDateTime", "")
		if err != nil || dtRaw == nil {
			return r.lineErr(field+".eventDateTime", KindMalformed, "missing: a body log is timed by it", err)
		}
		s, _ := unquote(dtRaw)
		when, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return r.lineErr(field+".eventDateTime", KindMalformed, fmt.Sprintf("%q is not an ISO-8601 time", s), nil)
		}
		if !haveT0 {
			t0, haveT0 = when, true
		}
		at := max(when.Sub(t0), last)
		last = at
		out = append(out, events.Timed{At: at, Event: e})
	}
	r.last, r.t0, r.haveT0 = last, t0, haveT0
	r.pending = out
	return nil
}
