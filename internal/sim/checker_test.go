package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/loadgen/loadgen/internal/events"
)

// checker applies the life-cycle rules of docs/contracts.md to a stream of
// events, as the mock does, plus the agent-state consistency the
// simulation promises. It is written from the contract, independently of
// the simulation's own bookkeeping.
type checker struct {
	convs      map[string]*convCheck
	eventIDs   map[string]bool
	status     map[string]string // agent id → last routing status
	presence   map[string]string // agent id → last presence definition
	offered    map[string]bool   // agent id → established, Interacting must follow
	onQueue    string
	violations map[string]int
	examples   []string
	types      [events.NumTypes]int
}

type convCheck struct {
	legs     map[string]*legCheck
	commands map[string]bool
}

type legCheck struct {
	ended, disposed bool
}

func newChecker(onQueue string) *checker {
	return &checker{
		convs:      map[string]*convCheck{},
		eventIDs:   map[string]bool{},
		status:     map[string]string{},
		presence:   map[string]string{},
		offered:    map[string]bool{},
		onQueue:    onQueue,
		violations: map[string]int{},
	}
}

func (c *checker) fail(rule, format string, args ...any) {
	c.violations[rule]++
	if len(c.examples) < 10 {
		c.examples = append(c.examples, rule+": "+fmt.Sprintf(format, args...))
	}
}

func (c *checker) total() int {
	n := 0
	for _, v := range c.violations {
		n += v
	}
	return n
}

func isEstablished(t events.Type) bool {
	return strings.HasSuffix(t.String(), "EstablishedEvent")
}

func isTransferStart(t events.Type) bool {
	switch t {
	case events.TypeRoutingTransfer, events.TypeUserTransfer, events.TypePhoneTransfer,
		events.TypeEmailRoutingTransfer, events.TypeEmailUserTransfer:
		return true
	}
	return false
}

func isTransferFollow(t events.Type) bool {
	switch t {
	case events.TypeProgressTransfer, events.TypeEndTransfer,
		events.TypeEmailProgressTransfer, events.TypeEmailEndTransfer:
		return true
	}
	return false
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// add checks one event. Its JSON must also carry every required field with
// an allowed value.
func (c *checker) add(ev events.Event) {
	c.types[ev.Type]++
	var m map[string]any
	if err := json.Unmarshal(ev.JSON, &m); err != nil {
		c.fail("badJSON", "%s: %v", ev.Type, err)
		return
	}
	c.fields(ev.Type.String(), m, ev.Type.Fields())
	id := str(m, "eventId")
	if id != ev.ID {
		c.fail("eventId", "Event.ID %s, JSON eventId %s", ev.ID, id)
	}
	if c.eventIDs[id] {
		c.fail("duplicateEventId", "%s", id)
	}
	c.eventIDs[id] = true

	switch ev.Type {
	case events.TypeUserPresence:
		c.presenceEvent(m)
		return
	case events.TypeUserRoutingStatus:
		c.statusEvent(m)
		return
	}
	if ev.Key != events.KeyOf(str(m, "conversationId")) {
		c.fail("key", "%s: Key is not the conversationId's", ev.Type)
	}
	cv := c.convs[str(m, "conversationId")]
	if cv == nil {
		cv = &convCheck{legs: map[string]*legCheck{}, commands: map[string]bool{}}
		c.convs[str(m, "conversationId")] = cv
	}
	leg := str(m, "communicationId")
	ic, _ := m["initialConfiguration"].(map[string]any)
	refs := []string{str(ic, "invitedBy"), str(ic, "previousEmailId"), str(m, "initiatingCommunicationId"),
		str(m, "targetCommunicationId"), str(m, "objectCommunicationId"), str(m, "destinationCommunicationId")}
	for _, r := range refs {
		if r != "" && cv.legs[r] == nil {
			c.fail("unknownReference", "%s refers to leg %s", ev.Type, r)
		}
	}
	switch {
	case isEstablished(ev.Type):
		if cv.legs[leg] != nil {
			c.fail("duplicateLeg", "%s %s", ev.Type, leg)
		}
		cv.legs[leg] = &legCheck{}
		if u := str(m, "userId"); u != "" {
			if c.status[u] != "Idle" {
				c.fail("agentState", "%s offered to %s while %q", ev.Type, u, c.status[u])
			}
			if c.presence[u] != c.onQueue {
				c.fail("agentState", "%s offered to %s who is not On Queue", ev.Type, u)
			}
			c.offered[u] = true
		}
	case leg != "":
		l := cv.legs[leg]
		switch {
		case l == nil:
			c.fail("unknownLeg", "%s on %s", ev.Type, leg)
		case l.ended && strings.HasSuffix(ev.Type.String(), "DispositionAppliedEvent") && !l.disposed:
			l.disposed = true
		case l.ended:
			c.fail("afterEnd", "%s on %s", ev.Type, leg)
		case strings.HasSuffix(ev.Type.String(), "CommunicationEndedEvent"):
			l.ended = true
		}
	}
	cmd := str(m, "commandId")
	if isTransferStart(ev.Type) {
		cv.commands[cmd] = true
	}
	if isTransferFollow(ev.Type) && !cv.commands[cmd] {
		c.fail("unknownCommand", "%s %s", ev.Type, cmd)
	}
}

func (c *checker) presenceEvent(m map[string]any) {
	u := str(m, "userId")
	c.presence[u] = str(m, "presenceDefinitionId")
}

// allowed routing-status transitions: "" is before the first event.
var transitions = map[string][]string{
	"":              {"Idle"},
	"Idle":          {"Interacting", "OffQueue"},
	"Interacting":   {"Idle", "NotResponding", "OffQueue"},
	"NotResponding": {"Idle", "OffQueue"},
	"OffQueue":      {"Idle"},
}

func (c *checker) statusEvent(m map[string]any) {
	u, st := str(m, "agentId"), str(m, "status")
	if c.offered[u] && st != "Interacting" {
		c.fail("agentState", "%s was offered an interaction but reports %s", u, st)
	}
	c.offered[u] = false
	if !slices.Contains(transitions[c.status[u]], st) {
		c.fail("agentState", "%s: %q → %q", u, c.status[u], st)
	}
	if st == "OffQueue" && c.presence[u] == c.onQueue {
		c.fail("agentState", "%s OffQueue while On Queue", u)
	}
	if (st == "Idle" || st == "Interacting") && c.presence[u] != c.onQueue {
		c.fail("agentState", "%s %s while not On Queue", u, st)
	}
	c.status[u] = st
}

// fields checks required fields and enums, recursing into embedded models.
func (c *checker) fields(where string, m map[string]any, fs []events.Field) {
	for _, f := range fs {
		v, ok := m[f.Name]
		if !ok {
			if f.Required {
				c.fail("missingField", "%s.%s", where, f.Name)
			}
			continue
		}
		if f.Enum != nil && !slices.Contains(f.Enum, fmt.Sprint(v)) {
			c.fail("badEnum", "%s.%s = %v", where, f.Name, v)
		}
		if f.Kind == events.KindObject {
			sub, _ := v.(map[string]any)
			if efs, ok := events.EmbeddedFields(f.Ref); ok {
				c.fields(where+"."+f.Name, sub, efs)
			}
		}
	}
}
