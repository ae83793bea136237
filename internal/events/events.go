package events

import (
	"errors"
	"fmt"
	"time"
)

// Endpoint names one of the three batch endpoints.
type Endpoint uint8

// The three endpoints. Their String forms are the names used in run.json,
// captures and flags.
const (
	Conversations Endpoint = iota
	Presence
	RoutingStatus
)

// NumEndpoints is the number of endpoints; Endpoint values are 0..NumEndpoints-1.
const NumEndpoints = 3

var endpointInfos = [NumEndpoints]struct {
	name, path, permission, body string
}{
	{"conversations", "/api/v2/events/conversations", "conversation:conversation:inject", "BatchConversationEventRequest"},
	{"presence", "/api/v2/events/users/presence", "presence:userPresence:inject", "BatchUserPresenceEventRequest"},
	{"routingstatus", "/api/v2/events/users/routingstatus", "routing:routingstatus:inject", "BatchUserRoutingStatusEventRequest"},
}

// ErrUnknown is wrapped by the Parse functions when a name is not known.
var ErrUnknown = errors.New("unknown name")

// Endpoints returns the three endpoints in order.
func Endpoints() [NumEndpoints]Endpoint {
	return [NumEndpoints]Endpoint{Conversations, Presence, RoutingStatus}
}

// String returns the endpoint's short name: conversations, presence or routingstatus.
func (e Endpoint) String() string {
	if int(e) < NumEndpoints {
		return endpointInfos[e].name
	}
	return fmt.Sprintf("Endpoint(%d)", e)
}

// Path returns the request path, e.g. /api/v2/events/users/presence.
func (e Endpoint) Path() string { return endpointInfos[e].path }

// Permission returns the Genesys permission the endpoint requires.
func (e Endpoint) Permission() string { return endpointInfos[e].permission }

// BodyModel returns the name of the batch request model.
func (e Endpoint) BodyModel() string { return endpointInfos[e].body }

// MarshalText implements encoding.TextMarshaler.
func (e Endpoint) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *Endpoint) UnmarshalText(b []byte) error {
	v, err := ParseEndpoint(string(b))
	*e = v
	return err
}

// ParseEndpoint returns the endpoint with the short name s.
func ParseEndpoint(s string) (Endpoint, error) {
	for i, info := range endpointInfos {
		if info.name == s {
			return Endpoint(i), nil
		}
	}
	return 0, fmt.Errorf("endpoint %q: %w (want conversations, presence or routingstatus)", s, ErrUnknown)
}

// EndpointForPath returns the endpoint served at path.
func EndpointForPath(path string) (Endpoint, bool) {
	for i, info := range endpointInfos {
		if info.path == path {
			return Endpoint(i), true
		}
	}
	return 0, false
}

// Type is one of the 34 event types (TypeUserEstablished, …).
type Type uint8

type typeInfo struct {
	name, property, media, kind string
	endpoint                    Endpoint
	fields                      []Field
}

// String returns the schema name, e.g. UserEstablishedEvent.
func (t Type) String() string {
	if int(t) < NumTypes {
		return typeInfos[t].name
	}
	return fmt.Sprintf("Type(%d)", t)
}

// Endpoint returns the endpoint that carries events of type t.
func (t Type) Endpoint() Endpoint { return typeInfos[t].endpoint }

// BatchProperty returns the array property of the batch body, e.g. userEstablishedEvents.
func (t Type) BatchProperty() string { return typeInfos[t].property }

// Media returns voice, email or agent-state.
func (t Type) Media() string { return typeInfos[t].media }

// Kind returns the schema's life-cycle kind: establish, end, transfer, …
func (t Type) Kind() string { return typeInfos[t].kind }

// Fields returns the type's field metadata. The slice is shared: do not modify it.
func (t Type) Fields() []Field { return typeInfos[t].fields }

// MarshalText implements encoding.TextMarshaler.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	*t = v
	return err
}

// Types returns all event types in schema order.
func Types() []Type {
	ts := make([]Type, NumTypes)
	for i := range ts {
		ts[i] = Type(i)
	}
	return ts
}

// ParseType returns the type with schema name s (e.g. UserEstablishedEvent).
func ParseType(s string) (Type, error) {
	for i := range typeInfos {
		if typeInfos[i].name == s {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("event type %q: %w", s, ErrUnknown)
}

// TypeForProperty returns the type carried by the batch body property p
// (e.g. userPresenceEvents).
func TypeForProperty(p string) (Type, bool) {
	for i := range typeInfos {
		if typeInfos[i].property == p {
			return Type(i), true
		}
	}
	return 0, false
}

// Kind is the JSON shape of a field.
type Kind uint8

// Field kinds, from the schema's type vocabulary.
const (
	KindString      Kind = iota // JSON string
	KindUUID                    // string holding a lower-case hyphenated UUID
	KindDateTime                // ISO-8601 UTC string, yyyy-MM-ddTHH:mm:ss[.fff]Z
	KindBool                    // true/false
	KindInt                     // JSON number
	KindObject                  // nested object; Field.Ref names its model
	KindStringArray             // array of strings
	KindUUIDArray               // array of UUID strings
	KindStringMap               // object of string values
	KindObjectArray             // array of objects; Field.Ref names the item model
)

// Field describes one field of a model.
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	Enum     []string // allowed values, nil when any value is allowed
	Ref      string   // model name for KindObject and KindObjectArray
}

// EmbeddedFields returns the fields of an embedded model such as
// InitialConfiguration. The slice is shared: do not modify it.
func EmbeddedFields(model string) ([]Field, bool) {
	f, ok := embeddedFields[model]
	return f, ok
}

// Payload is a typed event that can encode itself. All generated event
// structs implement it.
type Payload interface {
	EventType() Type
	ID() string
	// OrderKey is the id whose events must reach the target in order:
	// conversationId for conversation events, userId/agentId for agent state.
	OrderKey() string
	AppendJSON(buf []byte) []byte
}

// New returns a new zero event of type t, for decoding.
func New(t Type) Payload { return newPayload(t) }

// Event is one encoded event on its way to the target.
type Event struct {
	Type Type
	// ID is the eventId, the key of the per-event ledger.
	ID string
	// Key groups events that must keep their order (a hash of OrderKey);
	// events with equal keys are sent in order on one lane.
	Key uint64
	// JSON is the event object exactly as sent. It is never modified after
	// the Event is made; several Events may share one backing array.
	JSON []byte
}

// Timed is an event with its intended send time.
type Timed struct {
	// At is the intended send time as an offset from the start of the run.
	At time.Duration
	Event
}

// KeyOf hashes an order key (FNV-1a, 64 bit).
func KeyOf(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Encoder turns payloads into Events. It appends their JSON into large
// shared chunks, so encoding costs about one allocation per chunk rather
// than one per event. An Encoder is not safe for concurrent use.
type Encoder struct {
	chunk []byte
}

const chunkSize = 64 << 10

// Encode encodes p into a new Event.
func (enc *Encoder) Encode(p Payload) Event {
	if cap(enc.chunk)-len(enc.chunk) < 4<<10 {
		enc.chunk = make([]byte, 0, chunkSize)
	}
	start := len(enc.chunk)
	// If the event outgrows the chunk, append moves everything to a larger
	// array; events already handed out keep the old one, which is never
	// written again, so sharing stays safe.
	enc.chunk = p.AppendJSON(enc.chunk)
	js := enc.chunk[start:len(enc.chunk):len(enc.chunk)]
	return Event{Type: p.EventType(), ID: p.ID(), Key: KeyOf(p.OrderKey()), JSON: js}
}
