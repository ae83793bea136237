package recorder

import (
	"bytes"
	"crypto/sha1"
	"strings"

	"github.com/loadgen/loadgen/internal/events"
)

// idFields is the set of field names (at any depth of an event) whose values
// are IDs that a replay mints afresh: eventId, conversationId,
// communicationId, commandId and every field that refers to one of them.
// It is derived from the wire model's field metadata once and never changed.
var idFields = collectIDFields()

// refersToID decides, by name, whether a UUID field names an event,
// conversation, leg or transfer (rewritten) rather than an org entity such
// as a user, queue, skill or wrap-up code (kept, since it must exist in the
// target org).
func refersToID(name string) bool {
	switch name {
	case "eventId", "conversationId", "communicationId", "commandId", "invitedBy", "previousEmailId":
		return true
	}
	return strings.HasSuffix(name, "CommunicationId") || strings.HasSuffix(name, "ConversationId")
}

func collectIDFields() map[string]bool {
	set := map[string]bool{}
	var visit func(fs []events.Field)
	seen := map[string]bool{}
	visit = func(fs []events.Field) {
		for _, f := range fs {
			if f.Kind == events.KindUUID && refersToID(f.Name) {
				set[f.Name] = true
			}
			if f.Ref != "" && !seen[f.Ref] {
				seen[f.Ref] = true
				if sub, ok := events.EmbeddedFields(f.Ref); ok {
					visit(sub)
				}
			}
		}
	}
	for _, t := range events.Types() {
		visit(t.Fields())
	}
	return set
}

// IDFields returns the names of the fields a Rewriter rewrites, in no
// particular order. The result is a fresh slice.
func IDFields() []string {
	out := make([]string, 0, len(idFields))
	for k := range idFields {
		out = append(out, k)
	}
	return out
}

// namespace salts every hash, so loadgen's IDs live apart from other
// UUIDv5 users.
var namespace = [16]byte{0x6c, 0x6f, 0x61, 0x64, 0x67, 0x65, 0x6e, 0x2d, 0x72, 0x65, 0x70, 0x6c, 0x61, 0x79, 0x76, 0x31}

// Rewriter maps IDs deterministically: the new ID is a UUIDv5-style hash
// (SHA-1, version 5 and RFC 4122 variant bits) of the salt and the original
// ID. Because it is a pure function, every reference to a leg, transfer or
// conversation maps to the same new ID without any state, the same salt
// always gives the same IDs, and another salt gives others. A Rewriter is
// not safe for concurrent use (it reuses a buffer).
type Rewriter struct {
	prefix int    // len(namespace)+len(salt)+1: where the original starts in buf
	buf    []byte // namespace, salt, 0, original
}

// NewRewriter returns a Rewriter salted with salt (the run ID).
func NewRewriter(salt string) *Rewriter {
	buf := make([]byte, 0, len(namespace)+len(salt)+1+64)
	buf = append(buf, namespace[:]...)
	buf = append(buf, salt...)
	buf = append(buf, 0)
	return &Rewriter{prefix: len(buf), buf: buf}
}

// ID returns the new ID for orig.
func (rw *Rewriter) ID(orig string) string {
	return string(rw.appendID(nil, []byte(orig)))
}

// appendID appends the new lower-case hyphenated UUID for orig to dst.
func (rw *Rewriter) appendID(dst, orig []byte) []byte {
	rw.buf = append(rw.buf[:rw.prefix], orig...)
	sum := sha1.Sum(rw.buf)
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[sum[i]>>4], hexDigits[sum[i]&0xf])
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// rewriteValue appends the rewritten raw string val for an ID field.
func (rw *Rewriter) rewriteValue(dst, val []byte) []byte {
	inner := val[1 : len(val)-1]
	if len(inner) == 0 {
		return append(dst, val...) // an empty optional reference stays empty
	}
	if bytes.IndexByte(inner, '\\') >= 0 {
		if s, ok := unquote(val); ok {
			inner = []byte(s)
		}
	}
	dst = append(dst, '"')
	dst = rw.appendID(dst, inner)
	return append(dst, '"')
}

// AppendJSON appends the event object js with every ID field rewritten.
func (rw *Rewriter) AppendJSON(dst, js []byte) ([]byte, error) {
	return transform(dst, js, func(dst []byte, depth int, key, val []byte) ([]byte, error) {
		if idFields[string(key[1:len(key)-1])] {
			return rw.rewriteValue(dst, val), nil
		}
		return append(dst, val...), nil
	})
}

// Rewrite returns ev with fresh IDs: new JSON (ev.JSON is not touched), the
// new eventId as ID, and the Key of the new conversationId.
func (rw *Rewriter) Rewrite(ev events.Event) (events.Event, error) {
	js, err := rw.AppendJSON(make([]byte, 0, len(ev.JSON)+8), ev.JSON)
	if err != nil {
		return events.Event{}, err
	}
	return finishEvent(ev, js)
}

// finishEvent fills ID and Key of a rewritten event from its new JSON.
func finishEvent(ev events.Event, js []byte) (events.Event, error) {
	id, key, err := topStrings(js, "eventId", orderField(ev.Type.Endpoint()))
	if err != nil {
		return events.Event{}, err
	}
	out := events.Event{Type: ev.Type, ID: ev.ID, Key: ev.Key, JSON: js}
	if s, ok := unquote(id); ok && s != "" {
		out.ID = s
	}
	if key != nil {
		out.Key = keyOfRaw(key)
	}
	return out, nil
}
