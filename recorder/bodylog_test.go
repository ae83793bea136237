package recorder

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

func TestBodyLog(t *testing.T) {
	r, err := Open("testdata/bodylog.ndjson", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format() != FormatBodyLog {
		t.Fatalf("format %s, want body-log", r.Format())
	}
	got := drain(t, r)
	first := time.Date(2025, 3, 10, 13, 58, 0, 0, time.UTC)
	want := []struct {
		at  time.Duration
		typ events.Type
		id  string
		key string
	}{
		{0, events.TypeUserPresence, "9a2c7e1d-4b6f-4a83-b5d0-e1f7c3a9b246", userID},
		{time.Date(2025, 3, 10, 14, 3, 7, 120e6, time.UTC).Sub(first), events.TypeExternalEstablished, "0b6f2d4e-8a1c-4f3e-9d27-4c5a8e1b7f60", convID},
		{time.Date(2025, 3, 10, 14, 3, 7, 450e6, time.UTC).Sub(first), events.TypeRoutingEstablished, "5d3a9c1f-2e7b-4d64-8f0a-b6c4e2d1a983", convID},
		{time.Date(2025, 3, 10, 14, 3, 52, 300e6, time.UTC).Sub(first), events.TypeUserRoutingStatus, "3f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a57", userID},
		// Logged after an event 2.3 s later: keeps body order, sent with it.
		{time.Date(2025, 3, 10, 14, 3, 52, 300e6, time.UTC).Sub(first), events.TypeUserRoutingStatus, "4f8e1a6c-7d2b-4c95-a0e4-6b1d9f3c2a58", userID},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.At != w.at || g.Type != w.typ || g.ID != w.id || g.Key != events.KeyOf(w.key) {
			t.Errorf("event %d: got %v %s %s, want %v %s %s", i, g.At, g.Type, g.ID, w.at, w.typ, w.id)
		}
	}
	if !strings.HasPrefix(string(got[1].JSON), `{ "eventId": "0b6f2d4e`) {
		t.Errorf("event JSON not kept as logged: %s", got[1].JSON)
	}
}

func TestBodyLogBad(t *testing.T) {
	good := `{"userPresenceEvents":[{"eventId":"e1","eventDateTime":"2025-03-10T13:58:00.000Z","userId":"u"}]}`
	tests := []struct {
		name  string
		line  string
		kind  ErrorKind
		field string
	}{
		{"not json", `{"userPresenceEvents":[`, KindMalformed, ""},
		{"unknown property", `{"chatEvents":[]}`, KindUnknownType, "chatEvents"},
		{"mixed endpoints", `{"userPresenceEvents":[],"userRoutingStatusEvents":[]}`, KindWrongEndpoint, ""},
		{"no eventId", `{"userPresenceEvents":[{"eventDateTime":"2025-03-10T13:58:00.000Z"}]}`, KindMissingID, "userPresenceEvents[0].eventId"},
		{"no time", `{"userPresenceEvents":[{"eventId":"a"},{"eventId":"b"}]}`, KindMalformed, "userPresenceEvents[0].eventDateTime"},
		{"bad time", `{"userRoutingStatusEvents":[{"eventId":"a","eventDateTime":"2025-03-10T13:58:00.000Z"},{"eventId":"b","eventDateTime":"yesterday"}]}`, KindMalformed, "userRoutingStatusEvents[1].eventDateTime"},
		{"array", `[1,2]`, KindMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := good + "\n" + tc.line + "\n" + good + "\n"
			r, err := NewReader(strings.NewReader(in), "log.ndjson", ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for err == nil {
				_, err = r.Next(t.Context())
			}
			var lerr *LineError
			if !errors.As(err, &lerr) || !errors.Is(err, ErrBadCapture) || lerr.Line != 2 || lerr.Kind != tc.kind || lerr.Field != tc.field {
				t.Fatalf("err = %v (%#v), want line 2 kind %s field %q", err, lerr, tc.kind, tc.field)
			}
			r, _ = NewReader(strings.NewReader(in), "log.ndjson", ReadOptions{SkipBad: true})
			if evs := drain(t, r); len(evs) != 2 || r.Skipped() != 1 {
				t.Fatalf("SkipBad: %d events, %d skipped; want 2, 1", len(evs), r.Skipped())
			}
		})
	}
}
