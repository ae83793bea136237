package mock

import (
	"strconv"
	"time"
)

// violation is a set of life-cycle rule breaks (docs/contracts.md).
type violation uint8

const (
	vUnknownLeg violation = 1 << iota
	vAfterEnd
	vDuplicateLeg
	vUnknownCommand
	vUnknownReference
)

type leg struct {
	id    uuid
	ended bool
	// disposed is set by the one DispositionApplied allowed after the end.
	disposed bool
}

// conversation is the life-cycle state of one conversationId. Conversations
// have a handful of legs, so slices beat maps here.
type conversation struct {
	legs     []leg
	commands []uuid
	open     int // legs established and not ended
	lastSeen time.Time
}

func (c *conversation) leg(id uuid) *leg {
	if c == nil {
		return nil
	}
	for i := range c.legs {
		if c.legs[i].id == id {
			return &c.legs[i]
		}
	}
	return nil
}

func (c *conversation) hasCommand(id uuid) bool {
	if c == nil {
		return false
	}
	for _, k := range c.commands {
		if k == id {
			return true
		}
	}
	return false
}

// check returns the rules rec breaks against c (nil when the conversation
// is new), without changing anything, and a message naming the first one.
func (c *conversation) check(rec *record, lc lifeCycle) (violation, string) {
	var v violation
	var msg string
	note := func(kind violation, text string) {
		if v == 0 {
			msg = text
		}
		v |= kind
	}
	if rec.hasComm {
		l := c.leg(rec.comm)
		switch {
		case lc == lcEstablish:
			if l != nil {
				note(vDuplicateLeg, "communicationId "+rec.comm.String()+" is already established (duplicateLeg)")
			}
		case l == nil:
			note(vUnknownLeg, "communicationId "+rec.comm.String()+" was never established (unknownLeg)")
		case l.ended && (lc != lcDisposition || l.disposed):
			note(vAfterEnd, "communicationId "+rec.comm.String()+" has already ended (afterEnd)")
		}
	}
	if lc == lcTransferFollow && rec.hasCmd && !c.hasCommand(rec.cmd) {
		note(vUnknownCommand, "commandId "+rec.cmd.String()+" was never started by a transfer event (unknownCommand)")
	}
	for _, r := range rec.refs[:rec.nrefs] {
		if c.leg(r.id) == nil {
			note(vUnknownReference, r.name+" "+r.id.String()+" names a leg never established (unknownReference)")
		}
	}
	if v != 0 {
		msg = "conversation " + rec.conv.String() + ": " + msg
	}
	return v, msg
}

// apply records rec's effect on c.
func (c *conversation) apply(rec *record, lc lifeCycle, now time.Time) {
	c.lastSeen = now
	switch lc {
	case lcEstablish:
		if rec.hasComm && c.leg(rec.comm) == nil {
			c.legs = append(c.legs, leg{id: rec.comm})
			c.open++
		}
	case lcEnd:
		if l := c.leg(rec.comm); l != nil && !l.ended {
			l.ended = true
			c.open--
		}
	case lcDisposition:
		if l := c.leg(rec.comm); l != nil && l.ended {
			l.disposed = true
		}
	case lcTransferStart:
		if rec.hasCmd && !c.hasCommand(rec.cmd) {
			c.commands = append(c.commands, rec.cmd)
		}
	}
}

func (v *Violations) add(set violation) {
	for _, k := range [...]struct {
		bit violation
		n   *int64
	}{
		{vUnknownLeg, &v.UnknownLeg}, {vAfterEnd, &v.AfterEnd}, {vDuplicateLeg, &v.DuplicateLeg},
		{vUnknownCommand, &v.UnknownCommand}, {vUnknownReference, &v.UnknownReference},
	} {
		if set&k.bit != 0 {
			*k.n++
			v.Total++
		}
	}
}

// sweepEvery is how often (on the Server's clock) old state is dropped.
const sweepEvery = 10 * time.Second

// sweep drops conversations past their retention and rotates the eventId
// generations, so a long soak keeps bounded state. Called with s.mu held.
func (s *Server) sweep(now time.Time) {
	if now.Sub(s.idsSince) >= s.idRetention {
		s.prevIDs, s.ids = s.ids, make(map[uuid]struct{}, len(s.ids))
		s.idsSince = now
	}
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for id, c := range s.convs {
		age := now.Sub(c.lastSeen)
		if c.open == 0 && age > s.convRetention || age > s.idleRetention {
			delete(s.convs, id)
		}
	}
}

func (s *Server) seen(id uuid) bool {
	if _, ok := s.ids[id]; ok {
		return true
	}
	_, ok := s.prevIDs[id]
	return ok
}

// prefix returns the event's path, e.g. "userEstablishedEvents[3]: ".
func prefix(rec *record) string {
	return rec.typ.BatchProperty() + "[" + strconv.Itoa(rec.index) + "]: "
}
