package recorder

import (
	"errors"
	"fmt"
)

// ErrBadCapture is wrapped by every error about malformed capture or body-log
// content; test for it with errors.Is.
var ErrBadCapture = errors.New("bad capture")

// ErrVersion is wrapped when a capture was written by a newer loadgen whose
// format version this one does not know.
var ErrVersion = errors.New("unsupported capture version")

// ErrorKind classifies a bad line so callers can count or report problems
// without matching error strings.
type ErrorKind uint8

// Kinds of bad input.
const (
	KindMalformed       ErrorKind = iota // not JSON, or not the expected shape
	KindUnknownEndpoint                  // endpoint name not known
	KindUnknownType                      // event type name not known
	KindWrongEndpoint                    // the endpoint does not carry that event type
	KindMissingID                        // the event has no eventId
	KindBackwards                        // offsetMs smaller than the line before
	KindHeader                           // the header line is missing or wrong
	KindVersion                          // the header names a newer format version
)

var errorKindNames = [...]string{"malformed", "unknown-endpoint", "unknown-type", "wrong-endpoint", "missing-id", "backwards", "header", "version"}

// String returns the kind's short name.
func (k ErrorKind) String() string {
	if int(k) < len(errorKindNames) {
		return errorKindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", k)
}

// LineError is a problem with one line of an input file. Its message reads
// "file:line: field: message". It wraps ErrVersion for KindVersion and
// ErrBadCapture for every other kind, plus the underlying cause if any.
type LineError struct {
	File  string
	Line  int
	Field string // JSON field at fault, e.g. "offsetMs" or "event.eventId"; may be empty
	Kind  ErrorKind
	Msg   string
	Err   error // underlying cause, may be nil
}

// Error implements error.
func (e *LineError) Error() string {
	s := fmt.Sprintf("%s:%d: ", e.File, e.Line)
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel (ErrBadCapture or ErrVersion) and the cause.
func (e *LineError) Unwrap() []error {
	sentinel := ErrBadCapture
	if e.Kind == KindVersion {
		sentinel = ErrVersion
	}
	if e.Err == nil {
		return []error{sentinel}
	}
	return []error{sentinel, e.Err}
}
