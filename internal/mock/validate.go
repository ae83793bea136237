package mock

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/loadgen/loadgen/internal/events"
)

// uuid is a parsed UUID; state is keyed by it rather than by its text, which
// is smaller and makes upper- and lower-case spellings the same id.
type uuid [16]byte

// String returns the lower-case hyphenated form.
func (u uuid) String() string {
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// maxRefs bounds the leg references one event carries (the transfer events
// have four; invitedBy and previousEmailId sit in initialConfiguration).
const maxRefs = 6

type legRef struct {
	name string
	id   uuid
}

// record is what the scanner learned about one event.
type record struct {
	typ   events.Type
	index int // position in its array
	// eventID is the eventId as sent (decoded), nil when missing.
	eventID                         []byte
	id, conv, comm, cmd             uuid
	hasID, hasConv, hasComm, hasCmd bool
	refs                            [maxRefs]legRef
	nrefs                           int
	// problem says why the event is invalid; empty when it is valid.
	problem string
}

// Kinds of whole-request body errors, all answered with 400 and told apart
// (for ErrorBody.details) with errors.Is.
var (
	// errSyntax: the body is not valid JSON.
	errSyntax = errors.New("invalid JSON")
	// errBody: JSON, but not a batch of this endpoint (unknown property, an
	// element that is not an object, nesting too deep, too many events).
	errBody = errors.New("invalid batch body")
	// errTooManyEvents: more than events.MaxEventsPerRequest events; wrapped
	// together with errBody.
	errTooManyEvents = errors.New("too many events")
)

// syntaxError locates a JSON syntax error.
type syntaxError struct {
	offset, line, col int
	msg               string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d (byte %d): %s", e.line, e.col, e.offset, e.msg)
}

func (e *syntaxError) Unwrap() error { return errSyntax }

// maxDepth bounds nesting so a hostile body cannot exhaust the stack.
const maxDepth = 32

// maxProblems bounds the messages kept per event.
const maxProblems = 5

type pathElem struct {
	name string
	idx  int // -1 when the element has no index
}

// validator scans one batch body in a single pass, checking JSON syntax and
// every event against its compiled model. It is reused through a pool and
// is not safe for concurrent use.
type validator struct {
	t            *tables
	allowUnknown bool

	b     []byte
	pos   int
	depth int

	recs      []record
	path      []pathElem
	problems  []string
	nproblems int
	unesc     []byte
	unknown   int // unknown fields seen (AllowUnknownFields)

	body []byte // request body buffer, reused
	out  []byte // response buffer, reused
}

func newValidator(t *tables, allowUnknown bool) *validator {
	return &validator{t: t, allowUnknown: allowUnknown, recs: make([]record, 0, events.MaxEventsPerRequest)}
}

// run validates body as a batch for ep. It returns an error wrapping
// errSyntax or errBody when the whole request is bad; otherwise v.recs holds
// one record per event in body order.
func (v *validator) run(ep events.Endpoint, body []byte) error {
	v.b, v.pos, v.depth = body, 0, 0
	v.recs = v.recs[:0]
	v.unknown = 0
	props := v.t.props[ep]
	var seen [events.NumTypes]bool
	v.ws()
	if v.peek() != '{' {
		if err := v.skip(); err != nil {
			return err
		}
		if v.ws(); v.pos != len(v.b) {
			return v.syntax("data after the top-level value")
		}
		return fmt.Errorf("%w: want a JSON object of event arrays (%s)", errBody, ep.BodyModel())
	}
	v.pos++
	v.ws()
	if !v.eat('}') {
		for {
			v.ws()
			key, _, err := v.str()
			if err != nil {
				return err
			}
			typ, ok := props[string(key)]
			if !ok {
				return fmt.Errorf("%w: property %q is not an event array of %s (%s)", errBody, key, ep, ep.BodyModel())
			}
			if seen[typ] {
				return fmt.Errorf("%w: property %q appears twice", errBody, key)
			}
			seen[typ] = true
			prop := typ.BatchProperty()
			if err := v.colon(); err != nil {
				return err
			}
			switch v.peek() {
			case 'n':
				if err := v.lit("null"); err != nil {
					return err
				}
			case '[':
				if err := v.eventArray(typ, prop); err != nil {
					return err
				}
			default:
				if err := v.skip(); err != nil {
					return err
				}
				return fmt.Errorf("%w: %s: want an array of %s objects", errBody, prop, typ)
			}
			v.ws()
			if v.eat(',') {
				continue
			}
			if v.eat('}') {
				break
			}
			return v.syntax("want ',' or '}' after a property")
		}
	}
	v.ws()
	if v.pos != len(v.b) {
		return v.syntax("data after the top-level object")
	}
	return nil
}

func (v *validator) eventArray(typ events.Type, prop string) error {
	v.pos++ // '['
	v.ws()
	if v.eat(']') {
		return nil
	}
	m := v.t.types[typ]
	for idx := 0; ; idx++ {
		v.ws()
		if v.peek() != '{' {
			if err := v.skip(); err != nil {
				return err
			}
			return fmt.Errorf("%w: %s[%d]: want a %s object", errBody, prop, idx, typ)
		}
		if len(v.recs) == events.MaxEventsPerRequest {
			return fmt.Errorf("%w: %w: more than %d events in one request", errBody, errTooManyEvents, events.MaxEventsPerRequest)
		}
		v.recs = append(v.recs, record{typ: typ, index: idx})
		rec := &v.recs[len(v.recs)-1]
		v.path = append(v.path[:0], pathElem{prop, idx})
		v.problems, v.nproblems = v.problems[:0], 0
		if err := v.object(m, rec); err != nil {
			return err
		}
		if v.nproblems > 0 {
			rec.problem = strings.Join(v.problems, "; ")
			if more := v.nproblems - len(v.problems); more > 0 {
				rec.problem += fmt.Sprintf("; and %d more", more)
			}
		}
		v.ws()
		if v.eat(',') {
			continue
		}
		if v.eat(']') {
			return nil
		}
		return v.syntax("want ',' or ']' after an array element")
	}
}

// object validates an object against m; v.pos is at '{'.
func (v *validator) object(m *model, rec *record) error {
	v.pos++
	if v.depth++; v.depth > maxDepth {
		return fmt.Errorf("%w: nested more than %d deep", errBody, maxDepth)
	}
	var seen uint64
	hint := 0
	v.ws()
	if !v.eat('}') {
		for {
			v.ws()
			key, _, err := v.str()
			if err != nil {
				return err
			}
			// key may live in v.unesc, which the next string overwrites:
			// use it before reading the value.
			f := m.lookup(key, &hint)
			if f == nil {
				if v.allowUnknown {
					v.unknown++
				} else {
					v.problem(string(key), "unknown field (not part of "+m.name+")")
				}
			}
			if err := v.colon(); err != nil {
				return err
			}
			switch {
			case f == nil:
				err = v.skip()
			case seen&f.bit != 0:
				v.problem(f.name, "duplicate field")
				err = v.skip()
			default:
				seen |= f.bit
				err = v.value(f, rec)
			}
			if err != nil {
				return err
			}
			v.ws()
			if v.eat(',') {
				continue
			}
			if v.eat('}') {
				break
			}
			return v.syntax("want ',' or '}' after an object member")
		}
	}
	if miss := m.required &^ seen; miss != 0 {
		for i := range m.fields {
			if miss&m.fields[i].bit != 0 {
				v.problem(m.fields[i].name, "required field missing")
			}
		}
	}
	v.depth--
	return nil
}

// value validates the value of field f; v.pos is at its first byte.
func (v *validator) value(f *field, rec *record) error {
	c := v.peek()
	if c == 'n' {
		if err := v.lit("null"); err != nil {
			return err
		}
		if f.required {
			v.problem(f.name, "required field is null")
		}
		return nil
	}
	switch f.kind {
	case events.KindString, events.KindUUID, events.KindDateTime:
		if c != '"' {
			return v.mismatch(f.name, "a string", c)
		}
		s, esc, err := v.str()
		if err != nil {
			return err
		}
		v.checkString(f, s, esc, rec)
	case events.KindBool:
		switch c {
		case 't':
			return v.lit("true")
		case 'f':
			return v.lit("false")
		}
		return v.mismatch(f.name, "true or false", c)
	case events.KindInt:
		if c != '-' && (c < '0' || c > '9') {
			return v.mismatch(f.name, "an integer", c)
		}
		isInt, err := v.number()
		if err != nil {
			return err
		}
		if !isInt {
			v.problem(f.name, "want an integer, got a fraction")
		}
	case events.KindObject:
		if c != '{' {
			return v.mismatch(f.name, "an object", c)
		}
		v.path = append(v.path, pathElem{f.name, -1})
		if err := v.object(f.sub, rec); err != nil {
			return err
		}
		v.path = v.path[:len(v.path)-1]
	case events.KindStringMap:
		if c != '{' {
			return v.mismatch(f.name, "an object of strings", c)
		}
		return v.stringMap(f)
	case events.KindStringArray, events.KindUUIDArray, events.KindObjectArray:
		if c != '[' {
			return v.mismatch(f.name, "an array", c)
		}
		return v.array(f, rec)
	}
	return nil
}

func (v *validator) checkString(f *field, s []byte, esc bool, rec *record) {
	switch f.kind {
	case events.KindString:
		if f.enum != nil {
			for _, e := range f.enum {
				if e == string(s) {
					return
				}
			}
			v.problem(f.name, fmt.Sprintf("%q is not one of %s", s, f.enumText))
		} else if f.required && len(s) == 0 {
			v.problem(f.name, "required field is empty")
		}
	case events.KindUUID:
		if f.role == roleEventID {
			if esc {
				s = append([]byte(nil), s...) // s lives in v.unesc
			}
			rec.eventID = s
		}
		id, ok := parseUUID(s)
		if !ok {
			v.problem(f.name, fmt.Sprintf("%q is not a UUID (want 8-4-4-4-12 hex digits)", s))
			return
		}
		switch f.role {
		case roleEventID:
			rec.id, rec.hasID = id, true
		case roleConversationID:
			rec.conv, rec.hasConv = id, true
		case roleCommunicationID:
			rec.comm, rec.hasComm = id, true
		case roleCommandID:
			rec.cmd, rec.hasCmd = id, true
		case roleRef:
			if rec.nrefs < maxRefs {
				rec.refs[rec.nrefs] = legRef{f.name, id}
				rec.nrefs++
			}
		}
	case events.KindDateTime:
		if !validDateTime(s) {
			v.problem(f.name, fmt.Sprintf("%q is not an ISO-8601 UTC date-time (want yyyy-MM-ddTHH:mm:ss[.fff]Z)", s))
		}
	}
}

func (v *validator) array(f *field, rec *record) error {
	v.pos++ // '['
	v.ws()
	if v.eat(']') {
		return nil
	}
	for i := 0; ; i++ {
		v.ws()
		c := v.peek()
		switch {
		case f.kind == events.KindObjectArray && c == '{':
			v.path = append(v.path, pathElem{f.name, i})
			if err := v.object(f.sub, rec); err != nil {
				return err
			}
			v.path = v.path[:len(v.path)-1]
		case f.kind != events.KindObjectArray && c == '"':
			s, _, err := v.str()
			if err != nil {
				return err
			}
			if f.kind == events.KindUUIDArray {
				if _, ok := parseUUID(s); !ok {
					v.problem(f.name+"["+strconv.Itoa(i)+"]", fmt.Sprintf("%q is not a UUID (want 8-4-4-4-12 hex digits)", s))
				}
			}
		default:
			want := "a string"
			if f.kind == events.KindObjectArray {
				want = "an object"
			}
			if err := v.mismatch(f.name+"["+strconv.Itoa(i)+"]", want, c); err != nil {
				return err
			}
		}
		v.ws()
		if v.eat(',') {
			continue
		}
		if v.eat(']') {
			return nil
		}
		return v.syntax("want ',' or ']' after an array element")
	}
}

func (v *validator) stringMap(f *field) error {
	v.pos++ // '{'
	v.ws()
	if v.eat('}') {
		return nil
	}
	for {
		v.ws()
		key, _, err := v.str()
		if err != nil {
			return err
		}
		if err := v.colon(); err != nil {
			return err
		}
		if c := v.peek(); c == '"' {
			if _, _, err := v.str(); err != nil {
				return err
			}
		} else if err := v.mismatch(f.name+"."+string(key), "a string", c); err != nil {
			return err
		}
		v.ws()
		if v.eat(',') {
			continue
		}
		if v.eat('}') {
			return nil
		}
		return v.syntax("want ',' or '}' after an object member")
	}
}

// mismatch records a wrong JSON type and skips the value.
func (v *validator) mismatch(name, want string, c byte) error {
	got := "invalid JSON"
	switch c {
	case '"':
		got = "a string"
	case '{':
		got = "an object"
	case '[':
		got = "an array"
	case 't', 'f':
		got = "a boolean"
	case 'n':
		got = "null"
	default:
		if c == '-' || c >= '0' && c <= '9' {
			got = "a number"
		}
	}
	if err := v.skip(); err != nil {
		return err
	}
	v.problem(name, "want "+want+", got "+got)
	return nil
}

// problem records why the current event is invalid, prefixed with the path
// of the field (e.g. userEstablishedEvents[3].initialConfiguration).
func (v *validator) problem(name, msg string) {
	v.nproblems++
	if len(v.problems) >= maxProblems {
		return
	}
	var sb strings.Builder
	for i, p := range v.path {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(p.name)
		if p.idx >= 0 {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(p.idx))
			sb.WriteByte(']')
		}
	}
	if name != "" {
		sb.WriteByte('.')
		sb.WriteString(name)
	}
	sb.WriteString(": ")
	sb.WriteString(msg)
	v.problems = append(v.problems, sb.String())
}

// --- JSON lexing ---

func (v *validator) ws() {
	for v.pos < len(v.b) {
		switch v.b[v.pos] {
		case ' ', '\t', '\n', '\r':
			v.pos++
		default:
			return
		}
	}
}

func (v *validator) peek() byte {
	if v.pos < len(v.b) {
		return v.b[v.pos]
	}
	return 0
}

func (v *validator) eat(c byte) bool {
	if v.pos < len(v.b) && v.b[v.pos] == c {
		v.pos++
		return true
	}
	return false
}

func (v *validator) colon() error {
	v.ws()
	if !v.eat(':') {
		return v.syntax("want ':' after an object key")
	}
	v.ws()
	return nil
}

func (v *validator) lit(word string) error {
	if len(v.b)-v.pos < len(word) || string(v.b[v.pos:v.pos+len(word)]) != word {
		return v.syntax("invalid literal (want " + word + ")")
	}
	v.pos += len(word)
	return nil
}

// str reads a string at v.pos and returns its decoded bytes: a slice of the
// body when it has no escapes, else of v.unesc (valid until the next call).
func (v *validator) str() (s []byte, escaped bool, err error) {
	if !v.eat('"') {
		return nil, false, v.syntax("want a string")
	}
	b := v.b
	start := v.pos
	ascii := true
	for i := start; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			s = b[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, false, v.syntaxAt(start, "invalid UTF-8 in string")
			}
			v.pos = i + 1
			return s, false, nil
		case c == '\\':
			return v.strEscaped(start)
		case c < 0x20:
			return nil, false, v.syntaxAt(i, "control character in string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, v.syntaxAt(len(b), "unterminated string")
}

func (v *validator) strEscaped(start int) ([]byte, bool, error) {
	b := v.b
	out := v.unesc[:0]
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			v.pos = i + 1
			v.unesc = out
			return out, true, nil
		case c < 0x20:
			return nil, false, v.syntaxAt(i, "control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, v.syntaxAt(i, "invalid UTF-8 in string")
			}
			out = append(out, b[i:i+size]...)
			i += size
			continue
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return nil, false, v.syntaxAt(i, `invalid \u escape`)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A pair decodes to one rune; a lone half becomes U+FFFD
				// as in encoding/json.
				if r2, ok := hex4(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, false, v.syntaxAt(i, "invalid escape")
		}
		i += 2
	}
	return nil, false, v.syntaxAt(len(b), "unterminated string")
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		n, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(n)
	}
	return r, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// number reads a JSON number and says whether it is an integer.
func (v *validator) number() (isInt bool, err error) {
	b, i := v.b, v.pos
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false, v.syntaxAt(i, "invalid number")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		i++
		isInt = false
		if digits() == 0 {
			return false, v.syntaxAt(i, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		isInt = false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false, v.syntaxAt(i, "invalid number")
		}
	}
	v.pos = i
	return isInt, nil
}

// skip reads any JSON value, checking its syntax.
func (v *validator) skip() error {
	v.ws()
	switch c := v.peek(); c {
	case '"':
		_, _, err := v.str()
		return err
	case 't':
		return v.lit("true")
	case 'f':
		return v.lit("false")
	case 'n':
		return v.lit("null")
	case '{', '[':
		if v.depth++; v.depth > maxDepth {
			return fmt.Errorf("%w: nested more than %d deep", errBody, maxDepth)
		}
		v.pos++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		v.ws()
		if v.eat(end) {
			v.depth--
			return nil
		}
		for {
			v.ws()
			if c == '{' {
				if _, _, err := v.str(); err != nil {
					return err
				}
				if err := v.colon(); err != nil {
					return err
				}
			}
			if err := v.skip(); err != nil {
				return err
			}
			v.ws()
			if v.eat(',') {
				continue
			}
			if v.eat(end) {
				v.depth--
				return nil
			}
			return v.syntax("want ',' or '" + string(end) + "'")
		}
	default:
		if c == '-' || c >= '0' && c <= '9' {
			_, err := v.number()
			return err
		}
		if v.pos >= len(v.b) {
			return v.syntax("unexpected end of body")
		}
		return v.syntax(fmt.Sprintf("unexpected character %q", c))
	}
}

func (v *validator) syntax(msg string) error { return v.syntaxAt(v.pos, msg) }

func (v *validator) syntaxAt(off int, msg string) error {
	if off > len(v.b) {
		off = len(v.b)
	}
	line, col := 1, 1
	for _, c := range v.b[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &syntaxError{offset: off, line: line, col: col, msg: msg}
}

// uuidHex are the offsets of the 16 hex pairs in 8-4-4-4-12 form.
var uuidHex = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// parseUUID accepts the hyphenated 8-4-4-4-12 form in either case: the
// platform is Java, whose UUID.fromString ignores case, and the ids it
// hands out are lower case, so a client sending upper case is not wrong.
func parseUUID(s []byte) (uuid, bool) {
	var u uuid
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	for i, at := range uuidHex {
		hi, ok1 := unhex(s[at])
		lo, ok2 := unhex(s[at+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[i] = hi<<4 | lo
	}
	return u, true
}

// validDateTime checks yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z with real calendar
// ranges (no leap second, no offset other than Z).
func validDateTime(s []byte) bool {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range s[from:to] {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	return len(rest) == 1 && rest[0] == 'Z'
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
