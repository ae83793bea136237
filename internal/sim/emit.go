package sim

import (
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// scratch holds one reusable payload per event type. Each event is built
// in place, encoded at once and never kept, so building costs no
// allocation beyond the Encoder's shared chunks.
type scratch struct {
	t, f bool // targets of the *bool fields; never modified after New

	ic    events.InitialConfiguration
	eic   events.EmailInitialConfiguration
	src   events.SourceConfiguration
	audio events.AudioState

	external     events.ExternalEstablishedEvent
	ivr          events.IvrEstablishedEvent
	phone        events.PhoneEstablishedEvent
	routingEst   events.RoutingEstablishedEvent
	user         events.UserEstablishedEvent
	answered     events.CommunicationAnsweredEvent
	ended        events.CommunicationEndedEvent
	hold         events.HoldUpdatedEvent
	audioUpd     events.AudioUpdatedEvent
	disposition  events.CommunicationDispositionAppliedEvent
	routingXfer  events.RoutingTransferEvent
	userXfer     events.UserTransferEvent
	phoneXfer    events.PhoneTransferEvent
	progressXfer events.ProgressTransferEvent
	endXfer      events.EndTransferEvent
	consult      events.ConsultTransferEvent
	progConsult  events.ProgressConsultTransferEvent
	endConsult   events.EndConsultTransferEvent

	eExternal    events.EmailExternalEstablishedEvent
	eFlow        events.EmailFlowEstablishedEvent
	eRouting     events.EmailRoutingEstablishedEvent
	eUser        events.EmailUserEstablishedEvent
	eAnswered    events.EmailCommunicationAnsweredEvent
	eEnded       events.EmailCommunicationEndedEvent
	eHold        events.EmailHoldUpdatedEvent
	eBegin       events.EmailBeginTransmittingEvent
	eSent        events.EmailCommunicationSentMessageEvent
	eDisposition events.EmailCommunicationDispositionAppliedEvent
	eRoutingXfer events.EmailRoutingTransferEvent
	eUserXfer    events.EmailUserTransferEvent
	eProgress    events.EmailProgressTransferEvent
	eEndXfer     events.EmailEndTransferEvent

	presence events.UserPresenceEvent
	status   events.UserRoutingStatusEvent
}

func (s *Sim) dt() time.Time { return s.start.Add(s.now) }

func (s *Sim) emit(p events.Payload) {
	s.out.push(events.Timed{At: s.now, Event: s.enc.Encode(p)})
}

func (s *Sim) srcConf(c *conv) *events.SourceConfiguration {
	s.p.src = events.SourceConfiguration{SourceID: s.source, InteractionID: c.interaction}
	return &s.p.src
}

func (s *Sim) voiceIC(inbound, alerting bool, invitedBy string) *events.InitialConfiguration {
	s.p.audio = events.AudioState{CanHear: &s.p.t, CanSpeak: &s.p.t}
	s.p.ic = events.InitialConfiguration{
		AudioState: &s.p.audio,
		Inbound:    s.boolp(inbound),
		Alerting:   s.boolp(alerting),
		InvitedBy:  invitedBy,
	}
	return &s.p.ic
}

func (s *Sim) emailIC(c *conv, alerting bool, invitedBy, previous string) *events.EmailInitialConfiguration {
	s.p.eic = events.EmailInitialConfiguration{
		To:              c.to,
		From:            c.from,
		Subject:         c.subj,
		Inbound:         &s.p.t,
		Alerting:        s.boolp(alerting),
		InvitedBy:       invitedBy,
		PreviousEmailID: previous,
	}
	return &s.p.eic
}

func (s *Sim) boolp(v bool) *bool {
	if v {
		return &s.p.t
	}
	return &s.p.f
}

func (s *Sim) externalEstablished(c *conv) {
	p := &s.p.external
	*p = events.ExternalEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.cust,
		Ani: c.ani, Dnis: c.dnis,
		InitialConfiguration: s.voiceIC(true, false, ""),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

func (s *Sim) ivrEstablished(c *conv) {
	p := &s.p.ivr
	*p = events.IvrEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.ivr,
		IvrName: "Main menu", Ani: c.ani, Dnis: c.dnis,
		InitialConfiguration: s.voiceIC(true, false, c.cust),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

func (s *Sim) emailExternalEstablished(c *conv, previous string) {
	p := &s.p.eExternal
	*p = events.EmailExternalEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.cust,
		IncludeMessage:       &s.p.t,
		InitialConfiguration: s.emailIC(c, false, "", previous),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

func (s *Sim) emailFlowEstablished(c *conv) {
	p := &s.p.eFlow
	*p = events.EmailFlowEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.ivr,
		InitialConfiguration: s.emailIC(c, false, c.cust, ""),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

// routingSkills picks the optional skills and language of a queue leg.
func (s *Sim) routingSkills() (skills []string, lang string) {
	r := s.sc.Routing
	if len(s.skills) > 0 && s.chance(r.SkillsProbability) {
		i := s.rng.IntN(len(s.skills))
		n := 1 + s.rng.IntN(min(2, len(s.skills)-i))
		skills = s.skills[i : i+n : i+n]
	}
	if len(s.langs) > 0 && s.chance(r.LanguageProbability) {
		lang = pick(s.rng, s.langs)
	}
	return skills, lang
}

func (s *Sim) routingEstablished(c *conv, invitedBy string) {
	skills, lang := s.routingSkills()
	if c.email {
		p := &s.p.eRouting
		*p = events.EmailRoutingEstablishedEvent{
			EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.queue,
			QueueID: c.queueID, SkillIDs: skills, LanguageID: lang,
			InitialConfiguration: s.emailIC(c, false, invitedBy, ""),
			SourceConfiguration:  s.srcConf(c),
		}
		s.emit(p)
		return
	}
	p := &s.p.routingEst
	*p = events.RoutingEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.queue,
		QueueID: c.queueID, Ani: c.ani, Dnis: c.dnis, SkillIDs: skills, LanguageID: lang,
		InitialConfiguration: s.voiceIC(true, false, invitedBy),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

func (s *Sim) userEstablished(c *conv, a *agent, leg, invitedBy string, acw bool) {
	if c.email {
		p := &s.p.eUser
		*p = events.EmailUserEstablishedEvent{
			EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg,
			UserID: a.id, AfterCallWorkRequired: s.boolp(acw),
			InitialConfiguration: s.emailIC(c, true, invitedBy, ""),
			SourceConfiguration:  s.srcConf(c),
		}
		s.emit(p)
		return
	}
	p := &s.p.user
	*p = events.UserEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg,
		UserID: a.id, StationID: a.station, Ani: c.ani, Dnis: c.dnis, AfterCallWorkRequired: s.boolp(acw),
		InitialConfiguration: s.voiceIC(true, true, invitedBy),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

func (s *Sim) phoneEstablished(c *conv, invitedBy, number string) {
	p := &s.p.phone
	*p = events.PhoneEstablishedEvent{
		EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.phone,
		PhoneNumber: number, Ani: c.ani, Dnis: number,
		InitialConfiguration: s.voiceIC(false, false, invitedBy),
		SourceConfiguration:  s.srcConf(c),
	}
	s.emit(p)
}

func (s *Sim) answered(c *conv, leg string) {
	if c.email {
		p := &s.p.eAnswered
		*p = events.EmailCommunicationAnsweredEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg}
		s.emit(p)
		return
	}
	p := &s.p.answered
	*p = events.CommunicationAnsweredEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg}
	s.emit(p)
}

func (s *Sim) ended(c *conv, leg, why string) {
	if c.email {
		p := &s.p.eEnded
		*p = events.EmailCommunicationEndedEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg, DisconnectType: why}
		s.emit(p)
		return
	}
	p := &s.p.ended
	*p = events.CommunicationEndedEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg, DisconnectType: why}
	s.emit(p)
}

func (s *Sim) hold(c *conv, leg string, held bool) {
	if c.email {
		p := &s.p.eHold
		*p = events.EmailHoldUpdatedEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg, Held: s.boolp(held)}
		s.emit(p)
		return
	}
	p := &s.p.hold
	*p = events.HoldUpdatedEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg, Held: s.boolp(held)}
	s.emit(p)
}

func (s *Sim) audio(c *conv, leg string, canSpeak bool) {
	s.p.audio = events.AudioState{CanHear: &s.p.t, CanSpeak: s.boolp(canSpeak)}
	p := &s.p.audioUpd
	*p = events.AudioUpdatedEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: leg, AudioState: &s.p.audio}
	s.emit(p)
}

func (s *Sim) disposition(a *agent) {
	w := &s.sc.Voice.Wrapup
	if a.wrapEmail {
		w = &s.sc.Email.Wrapup
	}
	var code, notes string
	var tags []string
	if len(s.codes) > 0 && s.chance(w.CodeProbability) {
		code = pick(s.rng, s.codes)
		if s.chance(w.NotesProbability) {
			notes = "Customer issue resolved"
		}
		tags = w.Tags
	}
	if a.wrapEmail {
		p := &s.p.eDisposition
		*p = events.EmailCommunicationDispositionAppliedEvent{EventID: s.newID(), EventDateTime: s.dt(),
			ConversationID: a.wrapConv, CommunicationID: a.wrapLeg, Code: code, Notes: notes, Tags: tags}
		s.emit(p)
		return
	}
	p := &s.p.disposition
	*p = events.CommunicationDispositionAppliedEvent{EventID: s.newID(), EventDateTime: s.dt(),
		ConversationID: a.wrapConv, CommunicationID: a.wrapLeg, Code: code, Notes: notes, Tags: tags}
	s.emit(p)
}

func (s *Sim) routingTransfer(c *conv, cmd, from, queueID string) {
	skills, lang := s.routingSkills()
	if c.email {
		p := &s.p.eRoutingXfer
		*p = events.EmailRoutingTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
			TransferType: "Unattended", CommandID: cmd, InitiatingCommunicationID: from, TargetCommunicationID: from,
			ObjectCommunicationID: c.cust, DestinationQueueID: queueID, LanguageID: lang, SkillIDs: skills}
		s.emit(p)
		return
	}
	p := &s.p.routingXfer
	*p = events.RoutingTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
		TransferType: "Unattended", CommandID: cmd, InitiatingCommunicationID: from, TargetCommunicationID: from,
		ObjectCommunicationID: c.cust, DestinationQueueID: queueID, LanguageID: lang, SkillIDs: skills}
	s.emit(p)
}

func (s *Sim) userTransfer(c *conv, cmd, from, userID string) {
	if c.email {
		p := &s.p.eUserXfer
		*p = events.EmailUserTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
			TransferType: "Unattended", CommandID: cmd, InitiatingCommunicationID: from, TargetCommunicationID: from,
			ObjectCommunicationID: c.cust, DestinationUserID: userID}
		s.emit(p)
		return
	}
	p := &s.p.userXfer
	*p = events.UserTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
		TransferType: "Unattended", CommandID: cmd, InitiatingCommunicationID: from, TargetCommunicationID: from,
		ObjectCommunicationID: c.cust, DestinationUserID: userID}
	s.emit(p)
}

func (s *Sim) phoneTransfer(c *conv, cmd, from, number string) {
	p := &s.p.phoneXfer
	*p = events.PhoneTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
		TransferType: "Unattended", CommandID: cmd, InitiatingCommunicationID: from, TargetCommunicationID: from,
		ObjectCommunicationID: c.cust, DestinationPhoneNumber: number}
	s.emit(p)
}

func (s *Sim) progressTransfer(c *conv, cmd, dest string) {
	if c.email {
		p := &s.p.eProgress
		*p = events.EmailProgressTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
			CommandID: cmd, ObjectCommunicationID: c.cust, DestinationCommunicationID: dest}
		s.emit(p)
		return
	}
	p := &s.p.progressXfer
	*p = events.ProgressTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
		CommandID: cmd, ObjectCommunicationID: c.cust, DestinationCommunicationID: dest}
	s.emit(p)
}

func (s *Sim) endTransfer(c *conv, cmd, final string) {
	if c.email {
		p := &s.p.eEndXfer
		*p = events.EmailEndTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
			CommandID: cmd, FinalState: final, ObjectCommunicationID: c.cust}
		s.emit(p)
		return
	}
	p := &s.p.endXfer
	*p = events.EndTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
		CommandID: cmd, FinalState: final, ObjectCommunicationID: c.cust}
	s.emit(p)
}

// consultTransfer emits the consult start, or its progress once the
// consulted agent answered.
func (s *Sim) consultTransfer(c *conv, progress bool) {
	if progress {
		p := &s.p.progConsult
		*p = events.ProgressConsultTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
			InitiatingCommunicationID: c.agentLeg, DestinationCommunicationID: c.consultLeg, ObjectCommunicationID: c.cust}
		s.emit(p)
		return
	}
	p := &s.p.consult
	*p = events.ConsultTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id,
		InitiatingCommunicationID: c.agentLeg, DestinationCommunicationID: c.consultLeg, ObjectCommunicationID: c.cust}
	s.emit(p)
}

func (s *Sim) endConsult(c *conv) {
	p := &s.p.endConsult
	*p = events.EndConsultTransferEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id}
	s.emit(p)
}

func (s *Sim) beginTransmitting(c *conv) {
	p := &s.p.eBegin
	*p = events.EmailBeginTransmittingEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.agentLeg}
	s.emit(p)
}

func (s *Sim) sentMessage(c *conv) {
	p := &s.p.eSent
	*p = events.EmailCommunicationSentMessageEvent{EventID: s.newID(), EventDateTime: s.dt(), ConversationID: c.id, CommunicationID: c.agentLeg}
	s.emit(p)
}

// broken reports whether the next agent-state event is one that faults
// asks to break (by leaving out its required sourceId).
func (s *Sim) broken() bool {
	if s.faults > 0 {
		s.faults--
		return true
	}
	r := s.sc.Faults.InvalidRate
	return r > 0 && s.faultRNG.Float64() < r
}

func (s *Sim) presence(a *agent, definition string) {
	p := &s.p.presence
	*p = events.UserPresenceEvent{EventID: s.newID(), EventDateTime: s.dt(), UserID: a.id, SourceID: s.source,
		PresenceDefinitionID: definition}
	if s.broken() {
		p.SourceID = ""
	}
	s.emit(p)
}

func (s *Sim) routing(a *agent, status string) {
	p := &s.p.status
	*p = events.UserRoutingStatusEvent{EventID: s.newID(), EventDateTime: s.dt(), AgentID: a.id, Status: status, SourceID: s.source}
	if s.broken() {
		p.SourceID = ""
	}
	s.emit(p)
}
