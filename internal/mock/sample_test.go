package mock

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// testUUID returns a distinct lower-case v4-shaped UUID for (a, b).
func testUUID(a, b int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a, b&0xffff, (a>>16)&0xfff, b&0xfff, a*7919+b)
}

// appendSample appends a valid object for fields, in schema order, with
// every field set (optional ones too, unless requiredOnly). n varies ids.
func appendSample(buf []byte, fs []events.Field, n int, requiredOnly bool) []byte {
	buf = append(buf, '{')
	first := true
	for i, f := range fs {
		if requiredOnly && !f.Required {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = strconv.AppendQuote(buf, f.Name)
		buf = append(buf, ':')
		switch f.Kind {
		case events.KindUUID:
			buf = strconv.AppendQuote(buf, testUUID(n, i))
		case events.KindDateTime:
			buf = append(buf, `"2025-03-10T14:03:07.120Z"`...)
		case events.KindString:
			switch {
			case f.Enum != nil:
				buf = strconv.AppendQuote(buf, f.Enum[n%len(f.Enum)])
			case f.Name == "to" || f.Name == "from":
				buf = append(buf, `"jane.doe@example.com"`...)
			default:
				buf = strconv.AppendQuote(buf, "ACME-"+f.Name)
			}
		case events.KindBool:
			buf = append(buf, "true"...)
		case events.KindInt:
			buf = append(buf, "42"...)
		case events.KindObject:
			sub, _ := events.EmbeddedFields(f.Ref)
			buf = appendSample(buf, sub, n, requiredOnly)
		case events.KindObjectArray:
			sub, _ := events.EmbeddedFields(f.Ref)
			buf = append(buf, '[')
			buf = appendSample(buf, sub, n, requiredOnly)
			buf = append(buf, ']')
		case events.KindStringArray:
			buf = append(buf, `["vip","callback"]`...)
		case events.KindUUIDArray:
			buf = append(buf, '[')
			buf = strconv.AppendQuote(buf, testUUID(n, 100+i))
			buf = append(buf, ']')
		case events.KindStringMap:
			buf = append(buf, `{"crm":"case-1234","tier":"gold"}`...)
		}
	}
	return append(buf, '}')
}

// sampleEvent returns a valid event of typ as a generic map, for tests
// that edit one field.
func sampleEvent(typ events.Type, n int) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(appendSample(nil, typ.Fields(), n, false), &m); err != nil {
		panic(err) // test helper: the sample is built by this file
	}
	return m
}

// batchOf wraps events of one type into a batch body.
func batchOf(typ events.Type, evs ...any) string {
	b, err := json.Marshal(map[string]any{typ.BatchProperty(): evs})
	if err != nil {
		panic(err) // test helper
	}
	return string(b)
}

// benchBody builds a realistic 100-event conversations body: the voice
// call life-cycle of 10 conversations (establish, answer, hold, end,
// wrap-up). Bodies with different base share no ids.
func benchBody(base int) []byte {
	var enc events.Encoder
	var evs []events.Event
	tru, fls := true, false
	at := time.Date(2025, 3, 10, 14, 3, 7, 120e6, time.UTC)
	src := &events.SourceConfiguration{SourceID: "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08", InteractionID: "ACME-PBX-88412093"}
	for c := base * 10; len(evs) < 100; c++ {
		conv := testUUID(c, 1)
		cust, agent := testUUID(c, 2), testUUID(c, 3)
		id := func(k int) string { return testUUID(c, 10+k) }
		add := func(p events.Payload) {
			if len(evs) < 100 {
				evs = append(evs, enc.Encode(p))
			}
		}
		add(&events.ExternalEstablishedEvent{EventID: id(0), EventDateTime: at, ConversationID: conv, CommunicationID: cust,
			Ani: "+13175550123", Dnis: "+18005550199",
			InitialConfiguration: &events.InitialConfiguration{Inbound: &tru, Alerting: &fls, AudioState: &events.AudioState{CanHear: &tru, CanSpeak: &tru}},
			SourceConfiguration:  src})
		add(&events.UserEstablishedEvent{EventID: id(1), EventDateTime: at, ConversationID: conv, CommunicationID: agent,
			UserID: "f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36", Ani: "+13175550123", Dnis: "+18005550199", AfterCallWorkRequired: &tru,
			InitialConfiguration: &events.InitialConfiguration{Inbound: &tru, Alerting: &tru, InvitedBy: cust},
			SourceConfiguration:  src})
		add(&events.CommunicationAnsweredEvent{EventID: id(2), EventDateTime: at, ConversationID: conv, CommunicationID: agent})
		add(&events.HoldUpdatedEvent{EventID: id(3), EventDateTime: at, ConversationID: conv, CommunicationID: agent, Held: &tru})
		add(&events.HoldUpdatedEvent{EventID: id(4), EventDateTime: at, ConversationID: conv, CommunicationID: agent, Held: &fls})
		add(&events.AudioUpdatedEvent{EventID: id(5), EventDateTime: at, ConversationID: conv, CommunicationID: cust,
			AudioState: &events.AudioState{CanHear: &tru, CanSpeak: &fls}})
		add(&events.CommunicationEndedEvent{EventID: id(6), EventDateTime: at, ConversationID: conv, CommunicationID: cust, DisconnectType: "Self"})
		add(&events.CommunicationEndedEvent{EventID: id(7), EventDateTime: at, ConversationID: conv, CommunicationID: agent, DisconnectType: "Peer"})
		add(&events.CommunicationDispositionAppliedEvent{EventID: id(8), EventDateTime: at, ConversationID: conv, CommunicationID: agent,
			Code: "1a7e3c5b-9d2f-4b8a-a6c1-0f4e8d2b7c95", Notes: "customer asked for a callback", Tags: []string{"callback"}})
		add(&events.UserEstablishedEvent{EventID: id(9), EventDateTime: at, ConversationID: conv, CommunicationID: testUUID(c, 4),
			UserID: "f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36", QueueID: "1a7e3c5b-9d2f-4b8a-a6c1-0f4e8d2b7c95",
			InitialConfiguration: &events.InitialConfiguration{Inbound: &tru, Alerting: &tru, InvitedBy: cust}, SourceConfiguration: src})
	}
	return events.AppendBatch(nil, events.Conversations, evs)
}
