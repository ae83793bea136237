package events

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// AppendBatch appends the batch request body carrying evs to buf. Events of
// one type share one array; arrays appear in the order their type first
// appears in evs, and events keep their order inside an array. All events
// must belong to endpoint ep.
//
// Because a body groups events by type, a batch whose events of one key
// alternate between types (A1 B2 A3) loses their order; the batcher avoids
// building such batches (see CanAppend).
func AppendBatch(buf []byte, ep Endpoint, evs []Event) []byte {
	var seen [NumTypes]bool
	buf = append(buf, '{')
	first := true
	for i, e := range evs {
		if seen[e.Type] {
			continue
		}
		seen[e.Type] = true
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, '"')
		buf = append(buf, e.Type.BatchProperty()...)
		buf = append(buf, '"', ':', '[')
		buf = append(buf, e.JSON...)
		for _, f := range evs[i+1:] {
			if f.Type == e.Type {
				buf = append(buf, ',')
				buf = append(buf, f.JSON...)
			}
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

// BatchOverhead is the number of body bytes a batch needs beyond its events'
// JSON and separators, for n distinct types: braces plus per type the quoted
// property, colon and brackets.
func BatchOverhead(types []Type) int {
	n := 2
	for _, t := range types {
		n += len(t.BatchProperty()) + 5
	}
	return n
}

// RawEvent is one event cut out of a batch body, undecoded.
type RawEvent struct {
	Type Type
	JSON json.RawMessage
}

// SplitBatch cuts a batch body into its events, in body order (arrays in the
// order they appear, events in array order). It fails on a property that is
// not an event array of ep, or on malformed JSON.
func SplitBatch(ep Endpoint, body []byte) ([]RawEvent, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("batch body: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("batch body: want a JSON object")
	}
	var out []RawEvent
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("batch body: %w", err)
		}
		prop, _ := tok.(string)
		t, ok := TypeForProperty(prop)
		if !ok || t.Endpoint() != ep {
			return nil, fmt.Errorf("batch body: property %q is not an event array of %s", prop, ep)
		}
		var arr []json.RawMessage
		if err := dec.Decode(&arr); err != nil {
			return nil, fmt.Errorf("batch body: %s: %w", prop, err)
		}
		for _, raw := range arr {
			out = append(out, RawEvent{Type: t, JSON: raw})
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("batch body: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("batch body: data after the object")
	}
	return out, nil
}
