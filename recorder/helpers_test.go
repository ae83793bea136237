package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Fixed IDs of the sample conversation (from the API notes' example).
const (
	convID   = "6f1c2b7e-3d4a-4e8b-9c21-5a7d0e4f9b13"
	custLeg  = "a3e5c9d1-7b2f-4c6e-8a14-2f9b6d0c7e51"
	queueLeg = "c94a0f6b-2e1d-4b7c-9f35-6a8e1b3d0c22"
	agentLeg = "d2f8b3c5-1a7e-4b9d-8c60-3e5f7a2d4a69"
	newLeg   = "e1d2c3b4-a596-4877-8899-aabbccddeeff"
	cmdID    = "11111111-2222-4333-8444-555555555555"
	userID   = "f05c7a9e-1b3d-4f62-8d4a-7e9c2b5a1f36"
	queueID  = "1a7e3c5b-9d2f-4b8a-a6c1-0f4e8d2b7c95"
	sourceID = "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"
	presDef  = "e08eaf1b-ee47-4fa9-a231-1200e284798f"
)

var t0 = time.Date(2025, 3, 10, 14, 3, 7, 120e6, time.UTC)

func boolp(b bool) *bool { return &b }

// sampleEvents returns a consistent inbound call with a blind transfer, plus
// agent state, timed as a run would produce them.
func sampleEvents() []events.Timed {
	var enc events.Encoder
	id := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	when := func(s float64) time.Time { return t0.Add(at(s)) }
	src := &events.SourceConfiguration{SourceID: sourceID, InteractionID: "ACME-1"}
	ps := []struct {
		s float64
		p events.Payload
	}{
		{0, &events.UserPresenceEvent{EventID: id(1), EventDateTime: when(0), UserID: userID, SourceID: sourceID, PresenceDefinitionID: presDef}},
		{0, &events.UserRoutingStatusEvent{EventID: id(2), EventDateTime: when(0), AgentID: userID, Status: "Idle", SourceID: sourceID}},
		{1, &events.ExternalEstablishedEvent{EventID: id(3), EventDateTime: when(1), ConversationID: convID, CommunicationID: custLeg, Ani: "+13175550123", Dnis: "+18005550199",
			InitialConfiguration: &events.InitialConfiguration{Inbound: boolp(true), Alerting: boolp(false)}, SourceConfiguration: src}},
		{1.25, &events.RoutingEstablishedEvent{EventID: id(4), EventDateTime: when(1.25), ConversationID: convID, CommunicationID: queueLeg, QueueID: queueID,
			InitialConfiguration: &events.InitialConfiguration{Inbound: boolp(true), InvitedBy: custLeg}, SourceConfiguration: src}},
		{2.5, &events.UserEstablishedEvent{EventID: id(5), EventDateTime: when(2.5), ConversationID: convID, CommunicationID: agentLeg, UserID: userID, QueueID: queueID,
			InitialConfiguration: &events.InitialConfiguration{Alerting: boolp(true), InvitedBy: queueLeg}, SourceConfiguration: src}},
		{2.5, &events.UserRoutingStatusEvent{EventID: id(6), EventDateTime: when(2.5), AgentID: userID, Status: "Interacting", SourceID: sourceID}},
		{3, &events.CommunicationAnsweredEvent{EventID: id(7), EventDateTime: when(3), ConversationID: convID, CommunicationID: agentLeg}},
		{3, &events.CommunicationEndedEvent{EventID: id(8), EventDateTime: when(3), ConversationID: convID, CommunicationID: queueLeg, DisconnectType: "TransferACD"}},
		{4, &events.RoutingTransferEvent{EventID: id(9), EventDateTime: when(4), ConversationID: convID, TransferType: "Unattended", CommandID: cmdID,
			InitiatingCommunicationID: agentLeg, TargetCommunicationID: agentLeg, ObjectCommunicationID: custLeg, DestinationQueueID: queueID}},
		{4.5, &events.RoutingEstablishedEvent{EventID: id(10), EventDateTime: when(4.5), ConversationID: convID, CommunicationID: newLeg, QueueID: queueID,
			InitialConfiguration: &events.InitialConfiguration{InvitedBy: agentLeg}, SourceConfiguration: src}},
		{4.5, &events.ProgressTransferEvent{EventID: id(11), EventDateTime: when(4.5), ConversationID: convID, CommandID: cmdID, ObjectCommunicationID: custLeg, DestinationCommunicationID: newLeg}},
		{5, &events.CommunicationEndedEvent{EventID: id(12), EventDateTime: when(5), ConversationID: convID, CommunicationID: agentLeg, DisconnectType: "TransferACD"}},
		{5, &events.EndTransferEvent{EventID: id(13), EventDateTime: when(5), ConversationID: convID, CommandID: cmdID, FinalState: "Completed", ObjectCommunicationID: custLeg}},
		{6.0005, &events.CommunicationDispositionAppliedEvent{EventID: id(14), EventDateTime: when(6.0005), ConversationID: convID, CommunicationID: agentLeg}},
	}
	out := make([]events.Timed, len(ps))
	for i, p := range ps {
		out[i] = events.Timed{At: at(p.s), Event: enc.Encode(p.p)}
	}
	return out
}

// sliceSource is a Source over a slice.
type sliceSource struct {
	evs []events.Timed
	i   int
}

func (s *sliceSource) Next(ctx context.Context) (events.Timed, error) {
	if err := ctx.Err(); err != nil {
		return events.Timed{}, err
	}
	if s.i >= len(s.evs) {
		return events.Timed{}, io.EOF
	}
	s.i++
	return s.evs[s.i-1], nil
}

// drain reads src to io.EOF.
func drain(t testing.TB, src Source) []events.Timed {
	t.Helper()
	var out []events.Timed
	for {
		ev, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d events: %v", len(out), err)
		}
		out = append(out, ev)
	}
}

func eqTimed(a, b events.Timed) bool {
	return a.At == b.At && a.Type == b.Type && a.ID == b.ID && a.Key == b.Key && string(a.JSON) == string(b.JSON)
}
