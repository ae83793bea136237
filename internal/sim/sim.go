package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/scenarios"
)

// ErrOptions is wrapped by New when the options do not fit the scenario.
var ErrOptions = errors.New("sim: bad options")

// Options adjust a simulation without changing its scenario.
type Options struct {
	// Start anchors eventDateTime: an event's eventDateTime is Start + At.
	// The simulation never reads the wall clock, so a fixed Start gives a
	// reproducible stream.
	Start time.Time
	// ShardIndex and ShardCount select this process's deterministic part of
	// the scenario: the agents whose index ≡ ShardIndex (mod ShardCount) and
	// 1/ShardCount of the arrival rate. ShardCount 0 means 1.
	ShardIndex, ShardCount int
	// Duration overrides the scenario's duration when > 0.
	Duration time.Duration
}

// conversation states.
type cstate uint8

const (
	sNew          cstate = iota
	sIVR                 // in IVR (voice) or flow (email)
	sQueued              // queue leg open, routing timer pending
	sWaiting             // queue leg open, no agent free: in the waiting line
	sAlerting            // offered to an agent
	sTalking             // connected to an agent
	sConsult             // agent consulting another agent
	sExternal            // transferred to an external number
	sTransmitting        // email reply being sent
	sFollowWait          // email: waiting for the customer's follow-up
	sDone
)

// conv is one live conversation.
type conv struct {
	id, interaction string
	email           bool
	state           cstate
	gen             uint32 // bumped on every state change; cancels stale timers
	qgen            uint32 // bumped on every queue episode; scopes the abandon timer
	cust            string // customer leg (C or E)
	firstCust       string // first customer leg (email follow-ups refer to it)
	ivr             string // IVR or flow leg, while open
	queue           string // queue leg, while open
	queueID         string
	agentLeg        string
	agent           int32
	acw             bool
	consultLeg      string
	consultAgent    int32
	consultACW      bool
	phone           string
	cmd             string // user transfer waiting for its destination to answer
	transfers       int
	followUps       int
	ani, dnis       string
	from, to, subj  string
}

// agent states.
type astate uint8

const (
	aOffline astate = iota
	aIdle
	aAlerting
	aBusy
	aWrapup
	aNotResponding
	aBreak
)

type agent struct {
	id, station string
	state       astate
	gen         uint32
	breakDue    bool
	logoutDue   bool
	wrapConv    string // conversation and leg awaiting disposition
	wrapLeg     string
	wrapEmail   bool
}

type idleEntry struct {
	agent int32
	gen   uint32
}

type waitEntry struct {
	conv *conv
	gen  uint32
}

// Sim is a deterministic simulation of one scenario (or one shard of it).
// It implements engine.Source. A Sim is not safe for concurrent use.
type Sim struct {
	sc       *scenarios.Scenario
	start    time.Time
	end      time.Duration
	scale    float64 // scenario time per run time (TimeScale)
	shards   int
	shard    int
	rng      *rand.Rand
	idSrc    *rand.PCG
	faultRNG *rand.Rand
	faults   int // invalid events still to make
	enc      events.Encoder

	now     time.Duration
	seq     uint64
	pending actionHeap
	out     fifo[events.Timed]

	agents  []agent
	idle    fifo[idleEntry]
	waiting fifo[waitEntry]
	live    int // conversations not done

	queues, skills, langs, codes, stations []string
	source                                 string
	convN                                  uint64
	idBlock                                string
	planned                                [events.NumEndpoints]int

	p scratch
}

// New builds the simulation of s (or of one shard of it). It returns an
// error wrapping ErrOptions when the shard options are out of range or the
// shard would have conversations but no agents.
func New(s *scenarios.Scenario, opts Options) (*Sim, error) {
	n := opts.ShardCount
	if n == 0 {
		n = 1
	}
	if n < 0 || opts.ShardIndex < 0 || opts.ShardIndex >= n {
		return nil, fmt.Errorf("%w: shard %d/%d", ErrOptions, opts.ShardIndex, n)
	}
	if opts.Start.IsZero() {
		return nil, fmt.Errorf("%w: Start is required (it anchors eventDateTime)", ErrOptions)
	}
	if opts.Duration < 0 {
		return nil, fmt.Errorf("%w: negative duration %s", ErrOptions, opts.Duration)
	}
	end := s.Duration
	if opts.Duration > 0 {
		end = opts.Duration
	}
	total := s.Agents.N()
	mine := total / n
	if opts.ShardIndex < total%n {
		mine++
	}
	if mine == 0 && s.Arrivals.MaxRate() > 0 {
		return nil, fmt.Errorf("%w: shard %d/%d has no agents (the scenario has %d)", ErrOptions, opts.ShardIndex, n, total)
	}
	seed := uint64(s.Seed)
	stream := uint64(opts.ShardIndex)<<32 | uint64(n)
	sim := &Sim{
		sc:       s,
		start:    opts.Start,
		end:      end,
		scale:    s.TimeScale,
		shards:   n,
		shard:    opts.ShardIndex,
		rng:      rand.New(rand.NewPCG(seed, 0x5eed0001^stream)),
		idSrc:    rand.NewPCG(seed, 0x1d5eed02^stream),
		faultRNG: rand.New(rand.NewPCG(seed, 0xfa017003^stream)),
		faults:   s.Faults.InvalidEvents,
		queues:   s.Queues.Resolve(s.Seed, scenarios.KindQueue),
		skills:   s.Skills.Resolve(s.Seed, scenarios.KindSkill),
		langs:    s.Languages.Resolve(s.Seed, scenarios.KindLanguage),
		codes:    s.WrapUpCodes.Resolve(s.Seed, scenarios.KindWrapUpCode),
		stations: s.Stations.Resolve(s.Seed, scenarios.KindStation),
		source:   s.Source.SourceID,
	}
	if sim.source == "" {
		sim.source = scenarios.GeneratedID(s.Seed, scenarios.KindSource, 0)
	}
	if n > 1 {
		// Split the invalid-event budget too, so the union keeps the total.
		sim.faults = s.Faults.InvalidEvents / n
		if opts.ShardIndex < s.Faults.InvalidEvents%n {
			sim.faults++
		}
	}
	sim.p.t, sim.p.f = true, false
	sim.agents = make([]agent, 0, mine)
	for g := opts.ShardIndex; g < total; g += n {
		a := agent{id: s.Agents.AgentID(s.Seed, g)}
		if len(sim.stations) > 0 {
			a.station = sim.stations[g%len(sim.stations)]
		}
		sim.agents = append(sim.agents, a)
	}
	for i := range sim.agents {
		at := time.Duration(0)
		if s.Agents.LoginSpread > 0 {
			at = sim.scaled(time.Duration(sim.rng.Int64N(int64(s.Agents.LoginSpread))))
		}
		sim.schedule(at, kLogin, nil, int32(i), 0)
	}
	if first, ok := sim.firstArrival(); ok {
		sim.schedule(first, kArrive, nil, -1, 0)
	}
	sim.planned = plannedEvents(s, end, n)
	return sim, nil
}

// Planned returns the expected number of events per endpoint for this
// shard and duration. It comes from the scenario's analytic plan, not from
// running the simulation, so it is an estimate (usually within 10–20 %)
// meant for progress bars.
func (s *Sim) Planned() [events.NumEndpoints]int { return s.planned }

func plannedEvents(sc *scenarios.Scenario, d time.Duration, shards int) [events.NumEndpoints]int {
	c := *sc
	c.Duration = d
	p := c.Plan()
	var out [events.NumEndpoints]int
	for i := range out {
		out[i] = int(math.Round(p.Endpoints[i].Events / float64(shards)))
	}
	return out
}

// Next returns the next event in order of intended send time. It returns
// io.EOF after the last event of the run and ctx's error if ctx is done.
func (s *Sim) Next(ctx context.Context) (events.Timed, error) {
	for s.out.len() == 0 {
		if err := ctx.Err(); err != nil {
			return events.Timed{}, err
		}
		if len(s.pending) == 0 || s.pending[0].at >= s.end {
			return events.Timed{}, io.EOF
		}
		a := s.pending.pop()
		s.now = a.at
		s.run(&a)
	}
	ev, _ := s.out.pop()
	return ev, nil
}

// Live returns the number of conversations in progress and of pending
// actions: the state the simulation's memory is proportional to.
func (s *Sim) Live() (conversations, pending int) { return s.live, len(s.pending) }

func (s *Sim) schedule(at time.Duration, k kind, c *conv, agent int32, gen uint32) {
	if at < s.now {
		at = math.MaxInt64 // now + a huge duration overflowed: never, in effect
	}
	s.seq++
	s.pending.push(action{at: at, seq: s.seq, conv: c, agent: agent, gen: gen, kind: k})
}

// scaled converts scenario time to run time.
func (s *Sim) scaled(d time.Duration) time.Duration {
	if s.scale == 1 {
		return d
	}
	return seconds(float64(d) / s.scale / float64(time.Second))
}

// seconds converts a non-negative number of seconds to a Duration,
// saturating instead of overflowing.
func seconds(v float64) time.Duration {
	if !(v < float64(math.MaxInt64)/float64(time.Second)) {
		return math.MaxInt64
	}
	return time.Duration(v * float64(time.Second))
}

func (s *Sim) sample(d scenarios.Dist) time.Duration { return s.scaled(d.Sample(s.rng)) }

func (s *Sim) chance(p float64) bool { return p > 0 && (p >= 1 || s.rng.Float64() < p) }

func pick(r *rand.Rand, xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[r.IntN(len(xs))]
}

// newID returns a fresh UUIDv4. Ids are cut from blocks of 64 so that
// minting one costs no allocation of its own.
func (s *Sim) newID() string {
	if len(s.idBlock) < 36 {
		buf := make([]byte, 0, 64*36)
		for range 64 {
			buf = scenarios.AppendUUID(buf, s.idSrc.Uint64(), s.idSrc.Uint64())
		}
		s.idBlock = string(buf)
	}
	id := s.idBlock[:36]
	s.idBlock = s.idBlock[36:]
	return id
}

// arrivals

func (s *Sim) rateAt(t time.Duration) float64 {
	return s.sc.Arrivals.RateAt(t) / float64(s.shards)
}

// firstArrival returns the time of the first arrival of this shard.
func (s *Sim) firstArrival() (time.Duration, bool) {
	if s.sc.Arrivals.MaxRate() == 0 {
		return 0, false
	}
	if s.sc.Arrivals.Process == scenarios.Constant {
		// Offset the shards so that their union is evenly spaced.
		r := s.sc.Arrivals.MaxRate()
		if r0 := s.sc.Arrivals.RateAt(0); r0 > 0 {
			r = r0
		}
		first := seconds(float64(s.shard) / r)
		return first, first < s.end
	}
	return s.nextArrival(0)
}

// nextArrival returns the arrival after t: Poisson arrivals by thinning
// against the peak rate (exact for ramps), constant ones at 1/rate gaps.
func (s *Sim) nextArrival(t time.Duration) (time.Duration, bool) {
	peak := s.sc.Arrivals.MaxRate() / float64(s.shards)
	if peak <= 0 {
		return 0, false
	}
	if s.sc.Arrivals.Process == scenarios.Constant {
		for t < s.end {
			if r := s.rateAt(t); r > 0 {
				next := t + seconds(1/r)
				return next, next >= t && next < s.end
			}
			t += 100 * time.Millisecond // rate 0 for now: look again a little later
		}
		return 0, false
	}
	for {
		next := t + seconds(s.rng.ExpFloat64()/peak)
		if next < t || next >= s.end {
			return 0, false
		}
		t = next
		if s.rng.Float64()*peak < s.rateAt(t) {
			return t, true
		}
	}
}

// run dispatches one action.
func (s *Sim) run(a *action) {
	c := a.conv
	switch a.kind {
	case kArrive:
		if next, ok := s.nextArrival(s.now); ok {
			s.schedule(next, kArrive, nil, -1, 0)
		}
		s.arrive()
	case kLogin:
		s.login(a.agent)
	case kLogout:
		s.logoutTimer(a.agent)
	case kBreak:
		s.breakTimer(a.agent)
	case kBreakEnd:
		if ag := &s.agents[a.agent]; ag.state == aBreak && ag.gen == a.gen {
			s.breakEnd(a.agent)
		}
	case kRecover:
		if ag := &s.agents[a.agent]; ag.state == aNotResponding && ag.gen == a.gen {
			s.agentIdle(a.agent)
		}
	case kWrapDone:
		if ag := &s.agents[a.agent]; ag.state == aWrapup && ag.gen == a.gen {
			s.wrapDone(a.agent)
		}
	case kAbandon:
		if c.qgen == a.gen && (c.state == sQueued || c.state == sWaiting) {
			s.abandon(c)
		}
	default:
		if c.gen != a.gen {
			return // the conversation moved on; this timer is stale
		}
		s.convStep(c, a.kind)
	}
}

func (s *Sim) convStep(c *conv, k kind) {
	switch {
	case k == kIvrDone && c.state == sIVR:
		s.ivrDone(c)
	case k == kRoute && c.state == sQueued:
		s.route(c)
	case k == kNoAnswer && c.state == sAlerting:
		s.noAnswer(c)
	case k == kAnswer && c.state == sAlerting:
		s.answer(c)
	case (k == kHoldOn || k == kHoldOff) && c.state == sTalking:
		s.hold(c, c.agentLeg, k == kHoldOn)
	case (k == kMuteOn || k == kMuteOff) && c.state == sTalking:
		s.audio(c, c.agentLeg, k == kMuteOff)
	case k == kSegmentEnd && c.state == sTalking:
		s.segmentEnd(c)
	case k == kExternalEnd && c.state == sExternal:
		s.externalEnd(c)
	case k == kConsultAnswer && c.state == sConsult:
		s.consultAnswer(c)
	case k == kConsultDone && c.state == sConsult:
		s.consultDone(c)
	case k == kSent && c.state == sTransmitting:
		s.sent(c)
	case k == kFollowUp && c.state == sFollowWait:
		s.followUp(c)
	}
}

// setState moves c to st and cancels its pending timers.
func (s *Sim) setState(c *conv, st cstate) {
	c.state = st
	c.gen++
	if st == sDone {
		s.live--
	}
}

// agents

func (s *Sim) login(i int32) {
	a := &s.agents[i]
	if a.state != aOffline {
		return
	}
	s.presence(a, s.sc.Agents.Presence.OnQueue)
	ag := s.sc.Agents
	if ag.Breaks.Every.MeanValue() > 0 {
		s.schedule(s.now+s.sample(ag.Breaks.Every), kBreak, nil, i, 0)
	}
	if ag.Shift > 0 {
		s.schedule(s.now+s.scaled(ag.Shift), kLogout, nil, i, 0)
	}
	s.agentIdle(i)
}

func (s *Sim) logoutTimer(i int32) {
	a := &s.agents[i]
	switch a.state {
	case aOffline:
	case aIdle, aBreak:
		s.logout(i)
	default:
		a.logoutDue = true
	}
}

func (s *Sim) logout(i int32) {
	a := &s.agents[i]
	a.state, a.logoutDue, a.breakDue = aOffline, false, false
	a.gen++
	s.presence(a, s.sc.Agents.Presence.Offline)
	s.routing(a, "OffQueue")
}

func (s *Sim) breakTimer(i int32) {
	a := &s.agents[i]
	switch a.state {
	case aOffline, aBreak:
	case aIdle:
		s.startBreak(i)
	default:
		a.breakDue = true
	}
}

func (s *Sim) startBreak(i int32) {
	a := &s.agents[i]
	a.state, a.breakDue = aBreak, false
	a.gen++
	s.presence(a, s.sc.Agents.Presence.Break)
	s.routing(a, "OffQueue")
	s.schedule(s.now+s.sample(s.sc.Agents.Breaks.Length), kBreakEnd, nil, i, a.gen)
}

func (s *Sim) breakEnd(i int32) {
	a := &s.agents[i]
	s.presence(a, s.sc.Agents.Presence.OnQueue)
	s.schedule(s.now+s.sample(s.sc.Agents.Breaks.Every), kBreak, nil, i, 0)
	s.agentIdle(i)
}

// agentIdle makes agent i available: it reports Idle and takes the longest
// waiting conversation, if any.
func (s *Sim) agentIdle(i int32) {
	a := &s.agents[i]
	if a.logoutDue {
		s.logout(i)
		return
	}
	if a.breakDue {
		s.startBreak(i)
		return
	}
	a.state = aIdle
	a.gen++
	s.routing(a, "Idle")
	for {
		w, ok := s.waiting.pop()
		if !ok {
			break
		}
		if w.conv.state == sWaiting && w.conv.gen == w.gen {
			s.offer(w.conv, i, w.conv.queue)
			return
		}
	}
	s.idle.push(idleEntry{agent: i, gen: a.gen})
	if s.idle.len() > 2*len(s.agents)+64 {
		s.idle.filter(func(e idleEntry) bool {
			ag := &s.agents[e.agent]
			return ag.state == aIdle && ag.gen == e.gen
		})
	}
}

// popIdle returns the longest-idle agent, or -1.
func (s *Sim) popIdle() int32 {
	for {
		e, ok := s.idle.pop()
		if !ok {
			return -1
		}
		if a := &s.agents[e.agent]; a.state == aIdle && a.gen == e.gen {
			return e.agent
		}
	}
}

// release ends agent i's part in a conversation: after-contact work when
// the leg requires it, else straight back to Idle.
func (s *Sim) release(i int32, c *conv, leg string, acw bool) {
	a := &s.agents[i]
	if !acw {
		s.agentIdle(i)
		return
	}
	a.state = aWrapup
	a.gen++
	a.wrapConv, a.wrapLeg, a.wrapEmail = c.id, leg, c.email
	w := s.sc.Voice.Wrapup
	if c.email {
		w = s.sc.Email.Wrapup
	}
	s.schedule(s.now+s.sample(w.Duration), kWrapDone, nil, i, a.gen)
}

func (s *Sim) wrapDone(i int32) {
	a := &s.agents[i]
	s.disposition(a)
	a.wrapConv, a.wrapLeg = "", ""
	s.agentIdle(i)
}

// conversations

func (s *Sim) arrive() {
	s.convN++
	c := &conv{
		id:          s.newID(),
		interaction: s.sc.Source.InteractionPrefix + strconv.FormatUint(s.convN*uint64(s.shards)+uint64(s.shard), 10),
		agent:       -1,
		email:       !s.chance(s.sc.Mix.VoiceShare()),
	}
	s.live++
	if c.email {
		s.arriveEmail(c)
		return
	}
	v := &s.sc.Voice
	c.ani = pickOr(s.rng, v.ANIs, func() string { return "+1317555" + fmt.Sprintf("%04d", s.rng.IntN(10000)) })
	c.dnis = pickOr(s.rng, v.DNISs, func() string { return "+18005550199" })
	c.cust = s.newID()
	s.externalEstablished(c)
	if s.chance(v.IVR.Probability) {
		c.ivr = s.newID()
		s.ivrEstablished(c)
		s.setState(c, sIVR)
		s.schedule(s.now+s.sample(v.IVR.Duration), kIvrDone, c, -1, c.gen)
		return
	}
	s.openQueue(c, c.cust, "")
	s.queued(c, s.chance(v.Abandon.Probability))
}

func pickOr(r *rand.Rand, xs []string, gen func() string) string {
	if len(xs) > 0 {
		return xs[r.IntN(len(xs))]
	}
	return gen()
}

func (s *Sim) ivrDone(c *conv) {
	// The queue leg comes first so that nothing refers to an ended leg.
	leg := c.ivr
	s.openQueue(c, leg, "")
	s.ended(c, leg, "TransferACD")
	c.ivr = ""
	s.queued(c, !c.email && s.chance(s.sc.Voice.Abandon.Probability))
}

// openQueue establishes a new queue leg invited by invitedBy, for queueID
// (a random queue when empty).
func (s *Sim) openQueue(c *conv, invitedBy, queueID string) {
	if queueID == "" {
		queueID = pick(s.rng, s.queues)
	}
	c.queue, c.queueID = s.newID(), queueID
	s.routingEstablished(c, invitedBy)
}

// queued starts a queue episode: routing after the queue wait, and
// (first episode of a voice call only) the caller's patience timer.
func (s *Sim) queued(c *conv, mayAbandon bool) {
	s.setState(c, sQueued)
	c.qgen++
	qw := s.sc.Voice.QueueWait
	if c.email {
		qw = s.sc.Email.QueueWait
	}
	s.schedule(s.now+s.sample(qw), kRoute, c, -1, c.gen)
	if mayAbandon {
		s.schedule(s.now+s.sample(s.sc.Voice.Abandon.Duration), kAbandon, c, -1, c.qgen)
	}
}

func (s *Sim) route(c *conv) {
	if i := s.popIdle(); i >= 0 {
		s.offer(c, i, c.queue)
		return
	}
	s.setState(c, sWaiting)
	s.waiting.push(waitEntry{conv: c, gen: c.gen})
	if s.waiting.len() > 2*s.live+64 {
		s.waiting.filter(func(w waitEntry) bool { return w.conv.state == sWaiting && w.conv.gen == w.gen })
	}
}

func (s *Sim) abandon(c *conv) {
	s.ended(c, c.cust, "Self")
	s.ended(c, c.queue, "Peer")
	c.queue = ""
	s.setState(c, sDone)
}

// offer alerts agent i with conversation c on a new agent leg invited by
// invitedBy. The alert may go unanswered (NotResponding).
func (s *Sim) offer(c *conv, i int32, invitedBy string) {
	a := &s.agents[i]
	a.state = aAlerting
	a.gen++
	c.agent = i
	c.agentLeg = s.newID()
	c.acw = s.chance(s.wrapup(c).Probability)
	s.userEstablished(c, a, c.agentLeg, invitedBy, c.acw)
	s.routing(a, "Interacting")
	s.setState(c, sAlerting)
	if s.chance(s.sc.Agents.NotResponding.Probability) {
		s.schedule(s.now+s.sample(s.sc.Agents.NotResponding.Timeout), kNoAnswer, c, -1, c.gen)
		return
	}
	s.schedule(s.now+s.sample(s.alerting(c)), kAnswer, c, -1, c.gen)
}

func (s *Sim) wrapup(c *conv) *scenarios.Wrapup {
	if c.email {
		return &s.sc.Email.Wrapup
	}
	return &s.sc.Voice.Wrapup
}

func (s *Sim) alerting(c *conv) scenarios.Dist {
	if c.email {
		return s.sc.Email.Alerting
	}
	return s.sc.Voice.Alerting
}

func (s *Sim) noAnswer(c *conv) {
	i := c.agent
	a := &s.agents[i]
	s.ended(c, c.agentLeg, "System")
	a.state = aNotResponding
	a.gen++
	s.routing(a, "NotResponding")
	s.schedule(s.now+s.sample(s.sc.Agents.NotResponding.Recovery), kRecover, nil, i, a.gen)
	c.agent, c.agentLeg = -1, ""
	if c.queue != "" {
		// Offered from a queue: straight back to routing, the queue leg is still open.
		s.setState(c, sQueued)
		s.schedule(s.now, kRoute, c, -1, c.gen)
		return
	}
	// A user transfer whose destination did not answer: the transfer fails
	// and the customer goes back to a queue.
	if c.cmd != "" {
		s.endTransfer(c, c.cmd, "Failed")
		c.cmd = ""
	}
	s.openQueue(c, c.cust, "")
	s.queued(c, false)
}

func (s *Sim) answer(c *conv) {
	s.agents[c.agent].state = aBusy
	s.answered(c, c.agentLeg)
	if c.queue != "" {
		s.ended(c, c.queue, "TransferACD")
		c.queue = ""
	}
	if c.cmd != "" {
		s.endTransfer(c, c.cmd, "Completed")
		c.cmd = ""
	}
	s.setState(c, sTalking)
	s.startSegment(c)
}

// startSegment plays one agent's handling of c: optional hold and mute,
// then the segment's end (hang-up, reply or transfer).
func (s *Sim) startSegment(c *conv) {
	var talk time.Duration
	var hold scenarios.Step
	if c.email {
		talk, hold = s.sample(s.sc.Email.Handle), s.sc.Email.Hold
	} else {
		talk, hold = s.sample(s.sc.Voice.Talk), s.sc.Voice.Hold
	}
	t0 := s.now
	if s.chance(hold.Probability) {
		on := t0 + talk/3
		h := s.sample(hold.Duration)
		s.schedule(on, kHoldOn, c, -1, c.gen)
		s.schedule(on+h, kHoldOff, c, -1, c.gen)
		talk += h
	}
	if !c.email && s.chance(s.sc.Voice.Mute.Probability) {
		on := t0 + talk/4
		s.schedule(on, kMuteOn, c, -1, c.gen)
		s.schedule(on+min(s.sample(s.sc.Voice.Mute.Duration), talk/2), kMuteOff, c, -1, c.gen)
	}
	s.schedule(t0+talk, kSegmentEnd, c, -1, c.gen)
}

func (s *Sim) segmentEnd(c *conv) {
	t := s.sc.Voice.Transfers
	if c.email {
		t = s.sc.Email.Transfers
	}
	if c.transfers < t.Max {
		u := s.rng.Float64()
		switch {
		case u < t.Queue:
			s.transferQueue(c)
			return
		case u < t.Queue+t.User:
			s.transferUser(c)
			return
		case u < t.Queue+t.User+t.External:
			s.transferExternal(c)
			return
		case u < t.Queue+t.User+t.External+t.Consult:
			s.consult(c)
			return
		}
	}
	if c.email {
		s.finishEmail(c)
		return
	}
	s.hangUp(c)
}

func (s *Sim) hangUp(c *conv) {
	if s.chance(s.sc.Voice.CustomerHangsUp) {
		s.ended(c, c.cust, "Self")
		s.ended(c, c.agentLeg, "Peer")
	} else {
		s.ended(c, c.agentLeg, "Self")
		s.ended(c, c.cust, "Peer")
	}
	s.release(c.agent, c, c.agentLeg, c.acw)
	c.agent = -1
	s.setState(c, sDone)
}

// transferQueue is a blind transfer of the customer to a queue.
func (s *Sim) transferQueue(c *conv) {
	cmd := s.newID()
	from, fromAgent, acw := c.agentLeg, c.agent, c.acw
	dest := pick(s.rng, s.queues)
	s.routingTransfer(c, cmd, from, dest)
	s.openQueue(c, from, dest)
	s.progressTransfer(c, cmd, c.queue)
	s.ended(c, from, "TransferACD")
	s.endTransfer(c, cmd, "Completed")
	c.transfers++
	c.agent, c.agentLeg = -1, ""
	s.release(fromAgent, c, from, acw)
	s.queued(c, false)
}

// transferUser is a blind transfer of the customer to an idle agent (to a
// queue when nobody is idle). The transfer ends when the destination
// answers, or fails when its alert goes unanswered.
func (s *Sim) transferUser(c *conv) {
	b := s.popIdle()
	if b < 0 {
		s.transferQueue(c)
		return
	}
	cmd := s.newID()
	from, fromAgent, acw := c.agentLeg, c.agent, c.acw
	s.userTransfer(c, cmd, from, s.agents[b].id)
	s.offer(c, b, from)
	s.progressTransfer(c, cmd, c.agentLeg)
	s.ended(c, from, "TransferUser")
	c.cmd = cmd // ends Completed when the destination answers, Failed if not
	c.transfers++
	s.release(fromAgent, c, from, acw)
}

// transferExternal is a blind transfer of the caller to an external number.
func (s *Sim) transferExternal(c *conv) {
	cmd := s.newID()
	from, fromAgent, acw := c.agentLeg, c.agent, c.acw
	num := pickOr(s.rng, s.sc.Voice.ExternalNumbers, func() string { return "+18005550142" })
	s.phoneTransfer(c, cmd, from, num)
	c.phone = s.newID()
	s.phoneEstablished(c, from, num)
	s.progressTransfer(c, cmd, c.phone)
	s.ended(c, from, "Transfer")
	s.endTransfer(c, cmd, "Completed")
	c.transfers++
	c.agent, c.agentLeg = -1, ""
	s.release(fromAgent, c, from, acw)
	s.setState(c, sExternal)
	s.schedule(s.now+s.sample(s.sc.Voice.Talk), kExternalEnd, c, -1, c.gen)
}

func (s *Sim) externalEnd(c *conv) {
	s.ended(c, c.cust, "Self")
	s.ended(c, c.phone, "Peer")
	s.setState(c, sDone)
}

// consult brings an idle agent in on a consult leg; when nobody is idle the
// agent ends the call instead.
func (s *Sim) consult(c *conv) {
	b := s.popIdle()
	if b < 0 {
		s.hangUp(c)
		return
	}
	ag := &s.agents[b]
	ag.state = aAlerting
	ag.gen++
	c.consultAgent = b
	c.consultLeg = s.newID()
	c.consultACW = s.chance(s.sc.Voice.Wrapup.Probability)
	s.userEstablished(c, ag, c.consultLeg, c.agentLeg, c.consultACW)
	s.routing(ag, "Interacting")
	s.consultTransfer(c, false)
	s.setState(c, sConsult)
	s.schedule(s.now+s.sample(s.sc.Voice.Alerting), kConsultAnswer, c, -1, c.gen)
}

func (s *Sim) consultAnswer(c *conv) {
	s.agents[c.consultAgent].state = aBusy
	s.answered(c, c.consultLeg)
	s.consultTransfer(c, true)
	g := c.gen
	s.schedule(s.now+s.sample(s.sc.Voice.Talk)/4, kConsultDone, c, -1, g)
}

func (s *Sim) consultDone(c *conv) {
	from, fromAgent, acw := c.agentLeg, c.agent, c.acw
	s.ended(c, from, "TransferConsult")
	s.endConsult(c)
	c.agent, c.agentLeg, c.acw = c.consultAgent, c.consultLeg, c.consultACW
	c.consultAgent, c.consultLeg = -1, ""
	c.transfers++
	s.release(fromAgent, c, from, acw)
	s.setState(c, sTalking)
	s.startSegment(c)
}

// email

func (s *Sim) arriveEmail(c *conv) {
	e := &s.sc.Email
	c.to = pickOr(s.rng, e.To, func() string { return "support@acme.example" })
	c.from = "customer" + strconv.FormatUint(s.convN, 10) + "@example.com"
	c.subj = pickOr(s.rng, e.Subjects, func() string { return "Question about my order" })
	c.cust = s.newID()
	c.firstCust = c.cust
	s.emailExternalEstablished(c, "")
	if s.chance(e.Flow.Probability) {
		c.ivr = s.newID()
		s.emailFlowEstablished(c)
		s.setState(c, sIVR)
		s.schedule(s.now+s.sample(e.Flow.Duration), kIvrDone, c, -1, c.gen)
		return
	}
	s.openQueue(c, c.cust, "")
	s.queued(c, false)
}

func (s *Sim) finishEmail(c *conv) {
	if s.chance(s.sc.Email.Reply.Probability) {
		s.beginTransmitting(c)
		s.setState(c, sTransmitting)
		s.schedule(s.now+s.sample(s.sc.Email.Reply.Duration), kSent, c, -1, c.gen)
		return
	}
	s.closeEmail(c)
}

func (s *Sim) sent(c *conv) {
	s.sentMessage(c)
	s.closeEmail(c)
}

func (s *Sim) closeEmail(c *conv) {
	s.ended(c, c.agentLeg, "Self")
	s.ended(c, c.cust, "Peer")
	s.release(c.agent, c, c.agentLeg, c.acw)
	c.agent, c.agentLeg = -1, ""
	if c.followUps == 0 && s.chance(s.sc.Email.FollowUp.Probability) {
		c.followUps++
		s.setState(c, sFollowWait)
		s.schedule(s.now+s.sample(s.sc.Email.FollowUp.Duration), kFollowUp, c, -1, c.gen)
		return
	}
	s.setState(c, sDone)
}

func (s *Sim) followUp(c *conv) {
	prev := c.cust
	c.cust = s.newID()
	c.subj = "RE: " + c.subj
	s.emailExternalEstablished(c, prev)
	s.openQueue(c, c.cust, c.queueID)
	s.queued(c, false)
}
