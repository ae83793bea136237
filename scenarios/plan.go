package scenarios

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// PlatformRequestsPerSecond is the platform's token.rate.per.minute (300)
// as a rate per second: what one OAuth token may send.
const PlatformRequestsPerSecond = 300.0 / 60

// Plan is the expected traffic of a scenario, computed from its
// probabilities and distributions (not by simulating it). Figures are
// averages over the run unless named Peak; they assume every conversation
// that arrives plays out fully and that an agent is free when one is
// needed, so they are estimates, typically within 10–20 % of a run.
type Plan struct {
	Scenario string
	Duration time.Duration
	Agents   int
	// Conversations is the expected number of arrivals, split by media.
	Conversations, Voice, Email float64
	// PeakArrivals is the highest arrival rate (conversations/s).
	PeakArrivals float64
	Endpoints    [events.NumEndpoints]EndpointPlan
	Types        [events.NumTypes]TypePlan
	// Total sums the endpoints.
	Total EndpointPlan
	// Warnings say where the platform limit or the scenario's own limits
	// cannot carry the plan; empty when they can.
	Warnings []string
}

// EndpointPlan is the expected traffic of one endpoint (or the total).
type EndpointPlan struct {
	Events            float64 // over the whole run
	EventsPerSecond   float64
	RequestsPerSecond float64
	BytesPerSecond    float64 // request bodies
	EventsPerRequest  float64
	// PeakRequestsPerSecond is RequestsPerSecond at the peak arrival rate.
	PeakRequestsPerSecond float64
}

// TypePlan is the expected traffic of one event type.
type TypePlan struct {
	Events          float64
	EventsPerSecond float64
	BytesPerSecond  float64
}

// TypicalSize returns the typical encoded size in bytes of one event of
// type t as the simulation writes it (measured; the sim tests keep this
// table honest).
func TypicalSize(t events.Type) int {
	if int(t) < len(typicalSizes) {
		return typicalSizes[t]
	}
	return 300
}

// typicalSizes is indexed by events.Type.
var typicalSizes = [events.NumTypes]int{
	events.TypeEndTransfer:                          288,
	events.TypePhoneTransfer:                        461,
	events.TypeProgressTransfer:                     331,
	events.TypeRoutingTransfer:                      498,
	events.TypeUserTransfer:                         480,
	events.TypeCommunicationAnswered:                206,
	events.TypeCommunicationDispositionApplied:      261,
	events.TypeHoldUpdated:                          218,
	events.TypeExternalEstablished:                  450,
	events.TypeIvrEstablished:                       523,
	events.TypePhoneEstablished:                     532,
	events.TypeRoutingEstablished:                   609,
	events.TypeUserEstablished:                      625,
	events.TypeAudioUpdated:                         252,
	events.TypeCommunicationEnded:                   235,
	events.TypeConsultTransfer:                      347,
	events.TypeProgressConsultTransfer:              347,
	events.TypeEndConsultTransfer:                   149,
	events.TypeEmailBeginTransmitting:               206,
	events.TypeEmailCommunicationEnded:              233,
	events.TypeEmailExternalEstablished:             483,
	events.TypeEmailFlowEstablished:                 504,
	events.TypeEmailRoutingEstablished:              618,
	events.TypeEmailUserEstablished:                 580,
	events.TypeEmailCommunicationAnswered:           206,
	events.TypeEmailCommunicationDispositionApplied: 271,
	events.TypeEmailCommunicationSentMessage:        206,
	events.TypeEmailHoldUpdated:                     218,
	events.TypeEmailEndTransfer:                     288,
	events.TypeEmailProgressTransfer:                331,
	events.TypeEmailRoutingTransfer:                 548,
	events.TypeEmailUserTransfer:                    480,
	events.TypeUserPresence:                         253,
	events.TypeUserRoutingStatus:                    209,
}

// geometric returns 1 + r + … + r^(n-1).
func geometric(r float64, n int) float64 {
	sum, term := 0.0, 1.0
	for range n {
		sum += term
		term *= r
	}
	return sum
}

// Counts returns the expected number of events of each type over the run
// (see Plan for the assumptions).
func (s *Scenario) Counts() [events.NumTypes]float64 {
	var c [events.NumTypes]float64
	n := s.Arrivals.Expected(s.Duration)
	nv := n * s.Mix.VoiceShare()
	ne := n - nv
	sec := func(d Dist) float64 { return d.MeanValue().Seconds() }
	pnr := s.Agents.NotResponding.Probability
	unanswered := 0.0
	if pnr < 1 {
		unanswered = pnr / (1 - pnr)
	}

	// Voice.
	v := s.Voice
	pab := 0.0
	if m := v.Abandon.Duration.MeanValue(); m > 0 {
		pab = v.Abandon.Probability * (1 - math.Exp(-float64(v.QueueWait.MeanValue())/float64(m)))
	} else {
		pab = v.Abandon.Probability
	}
	done := nv * (1 - pab)
	t := v.Transfers
	sp := geometric(t.Queue+t.User+t.Consult, t.Max)
	segs := 1 + (t.Queue+t.User+t.Consult)*sp
	tq, tu, te, tc := t.Queue*sp, t.User*sp, t.External*sp, t.Consult*sp
	nr := (1 + tq + tu) * unanswered // unanswered offers from queues and user transfers
	// Conversations still going when the run ends send only part of their events.
	life := v.IVR.Probability*sec(v.IVR.Duration) + sec(v.QueueWait) + sec(v.Alerting) +
		segs*(sec(v.Talk)+v.Hold.Probability*sec(v.Hold.Duration))
	// Most events come early (establish, route, answer), the rest at the
	// end, so count them as spread over the first half of the life.
	nv *= s.within(0, life/2)
	done *= s.within(0, life/2)
	c[events.TypeExternalEstablished] += nv
	c[events.TypeIvrEstablished] += nv * v.IVR.Probability
	c[events.TypeRoutingEstablished] += nv + done*(tq+tu*pnr) // a failed user transfer goes back to a queue
	c[events.TypeUserEstablished] += done * (segs + nr)
	c[events.TypeCommunicationAnswered] += done * segs
	c[events.TypeHoldUpdated] += done * segs * 2 * v.Hold.Probability
	c[events.TypeAudioUpdated] += done * segs * 2 * v.Mute.Probability
	c[events.TypeRoutingTransfer] += done * tq
	c[events.TypeUserTransfer] += done * tu
	c[events.TypePhoneTransfer] += done * te
	c[events.TypePhoneEstablished] += done * te
	c[events.TypeProgressTransfer] += done * (tq + tu + te)
	c[events.TypeEndTransfer] += done * (tq + tu + te)
	c[events.TypeConsultTransfer] += done * tc
	c[events.TypeProgressConsultTransfer] += done * tc
	c[events.TypeEndConsultTransfer] += done * tc
	c[events.TypeCommunicationEnded] += nv*v.IVR.Probability + 2*nv*pab +
		done*((1+tq+tu*pnr)+segs+nr+1+te)
	c[events.TypeCommunicationDispositionApplied] += done * segs * v.Wrapup.Probability
	// Routing status: Interacting per offer, Idle after each, NotResponding per unanswered.
	c[events.TypeUserRoutingStatus] += done * (2*(segs+nr) + nr)

	// Email.
	e := s.Email
	te2 := e.Transfers
	spe := geometric(te2.Queue+te2.User, te2.Max)
	segsE := 1 + (te2.Queue+te2.User)*spe
	eq, eu := te2.Queue*spe, te2.User*spe
	episode := sec(e.QueueWait) + sec(e.Alerting) + segsE*(sec(e.Handle)+e.Hold.Probability*sec(e.Hold.Duration)) +
		e.Reply.Probability*sec(e.Reply.Duration)
	first := e.Flow.Probability*sec(e.Flow.Duration) + episode
	// Routing episodes per email conversation that fall inside the run.
	ep := s.within(0, first/2) + e.FollowUp.Probability*s.within(first+sec(e.FollowUp.Duration), episode/2)
	nrE := (1 + eq + eu) * unanswered
	c[events.TypeEmailExternalEstablished] += ne * ep
	c[events.TypeEmailFlowEstablished] += ne * e.Flow.Probability * s.within(0, first/2)
	c[events.TypeEmailRoutingEstablished] += ne * ep * (1 + eq + eu*pnr)
	c[events.TypeEmailUserEstablished] += ne * ep * (segsE + nrE)
	c[events.TypeEmailCommunicationAnswered] += ne * ep * segsE
	c[events.TypeEmailHoldUpdated] += ne * ep * segsE * 2 * e.Hold.Probability
	c[events.TypeEmailRoutingTransfer] += ne * ep * eq
	c[events.TypeEmailUserTransfer] += ne * ep * eu
	c[events.TypeEmailProgressTransfer] += ne * ep * (eq + eu)
	c[events.TypeEmailEndTransfer] += ne * ep * (eq + eu)
	c[events.TypeEmailBeginTransmitting] += ne * ep * e.Reply.Probability
	c[events.TypeEmailCommunicationSentMessage] += ne * ep * e.Reply.Probability
	c[events.TypeEmailCommunicationEnded] += ne*e.Flow.Probability*s.within(0, first/2) + ne*ep*((1+eq+eu*pnr)+segsE+nrE+1)
	c[events.TypeEmailCommunicationDispositionApplied] += ne * ep * segsE * e.Wrapup.Probability
	c[events.TypeUserRoutingStatus] += ne * ep * (2*(segsE+nrE) + nrE)

	// Agent state: log-in, breaks, end of shift.
	a := s.Agents
	agents := float64(a.N())
	scen := s.Duration.Seconds() * s.TimeScale // run length in scenario seconds
	logins := agents
	if sp := a.LoginSpread.Seconds(); sp > scen {
		logins = agents * scen / sp
	}
	c[events.TypeUserPresence] += logins
	c[events.TypeUserRoutingStatus] += logins
	if every := sec(a.Breaks.Every); every > 0 {
		// A break comes after every (on queue), lasts length, and so on: a
		// renewal process, started at each agent's log-in.
		length := sec(a.Breaks.Length)
		onShift := scen - math.Min(a.LoginSpread.Seconds(), scen)/2
		starts := func(t float64) float64 {
			if t <= 0 {
				return 0
			}
			first := a.Breaks.Every.CDF(time.Duration(t * float64(time.Second)))
			return first + math.Max(0, t-every-length)/(every+length)
		}
		b := logins * (starts(onShift) + starts(onShift-length))
		c[events.TypeUserPresence] += b
		c[events.TypeUserRoutingStatus] += b
	}
	if a.Shift > 0 && a.Shift.Seconds() < scen {
		c[events.TypeUserPresence] += logins
		c[events.TypeUserRoutingStatus] += logins
	}
	return c
}

// within returns the fraction of a conversation's events that fall inside
// the run, averaged over the arrival process, for events spread evenly
// from start to start+life after the arrival (scenario seconds).
func (s *Scenario) within(start, life float64) float64 {
	d := s.Duration.Seconds() * s.TimeScale // in scenario seconds
	const steps = 200
	var num, den float64
	for i := range steps {
		f := (float64(i) + 0.5) / steps
		r := s.Arrivals.RateAt(time.Duration(f * float64(s.Duration)))
		left := d*(1-f) - start // scenario time left after the conversation's first event
		frac := 0.0
		switch {
		case life <= 0 && left >= 0:
			frac = 1
		case life > 0:
			frac = math.Max(0, math.Min(1, left/life))
		}
		num += r * frac
		den += r
	}
	if den == 0 {
		return 1
	}
	return num / den
}

// Plan computes the expected traffic and checks it against the platform
// limit and the scenario's limits. It is safe for concurrent use.
func (s *Scenario) Plan() Plan {
	p := Plan{Scenario: s.Name, Duration: s.Duration, Agents: s.Agents.N()}
	p.Conversations = s.Arrivals.Expected(s.Duration)
	p.Voice = p.Conversations * s.Mix.VoiceShare()
	p.Email = p.Conversations - p.Voice
	p.PeakArrivals = s.Arrivals.MaxRate()
	secs := s.Duration.Seconds()
	peak := 1.0
	if p.Conversations > 0 {
		peak = p.PeakArrivals / (p.Conversations / secs)
	}
	counts := s.Counts()
	var bytes [events.NumEndpoints]float64
	for _, t := range events.Types() {
		tp := &p.Types[t]
		tp.Events = counts[t]
		tp.EventsPerSecond = counts[t] / secs
		tp.BytesPerSecond = tp.EventsPerSecond * float64(TypicalSize(t))
		ep := &p.Endpoints[t.Endpoint()]
		ep.Events += tp.Events
		ep.EventsPerSecond += tp.EventsPerSecond
		bytes[t.Endpoint()] += tp.BytesPerSecond
	}
	b := s.Batching
	for i := range p.Endpoints {
		ep := &p.Endpoints[i]
		if ep.EventsPerSecond == 0 {
			continue
		}
		avg := bytes[i] / ep.EventsPerSecond
		perReq := func(rate float64) float64 {
			n := math.Min(float64(b.MaxEvents), math.Floor(float64(b.MaxBytes-64)/(avg+1)))
			return math.Max(1, math.Min(n, 1+rate*b.Linger.Seconds()))
		}
		ep.EventsPerRequest = perReq(ep.EventsPerSecond)
		ep.RequestsPerSecond = ep.EventsPerSecond / ep.EventsPerRequest
		ep.BytesPerSecond = bytes[i] + ep.RequestsPerSecond*64 // body overhead
		f := 1.0
		if events.Endpoint(i) == events.Conversations {
			f = peak
		}
		ep.PeakRequestsPerSecond = ep.EventsPerSecond * f / perReq(ep.EventsPerSecond*f)
		p.Total.Events += ep.Events
		p.Total.EventsPerSecond += ep.EventsPerSecond
		p.Total.RequestsPerSecond += ep.RequestsPerSecond
		p.Total.BytesPerSecond += ep.BytesPerSecond
		p.Total.PeakRequestsPerSecond += ep.PeakRequestsPerSecond
	}
	if p.Total.RequestsPerSecond > 0 {
		p.Total.EventsPerRequest = p.Total.EventsPerSecond / p.Total.RequestsPerSecond
	}
	p.Warnings = s.warnings(&p)
	return p
}

func (s *Scenario) warnings(p *Plan) []string {
	var w []string
	l := s.Limits
	need := p.Total.PeakRequestsPerSecond
	if need > PlatformRequestsPerSecond {
		w = append(w, fmt.Sprintf("needs %.3g requests/s at peak, above the platform's 300 requests/min (5/s) per token: use a longer linger, more shards (one token each), or expect 429s", need))
	}
	if l.RequestsPerSecond > 0 && need > l.RequestsPerSecond {
		w = append(w, fmt.Sprintf("limits cannot carry the plan: %.3g requests/s at peak, limits.requestsPerSecond is %.3g", need, l.RequestsPerSecond))
	}
	for _, ep := range events.Endpoints() {
		lim := l.Endpoint[ep]
		if lim > 0 && p.Endpoints[ep].PeakRequestsPerSecond > lim {
			w = append(w, fmt.Sprintf("limits cannot carry the plan: %s needs %.3g requests/s at peak, limits.endpoints.%s is %.3g",
				ep, p.Endpoints[ep].PeakRequestsPerSecond, ep, lim))
		}
	}
	if l.EventsPerSecond > 0 && p.Total.EventsPerSecond > l.EventsPerSecond {
		w = append(w, fmt.Sprintf("limits cannot carry the plan: %.3g events/s, limits.eventsPerSecond is %.3g", p.Total.EventsPerSecond, l.EventsPerSecond))
	}
	if s.Retry.Mode == RetryClient && s.Retry.Budget == 0 && s.Retry.MaxAttempts > 1 {
		w = append(w, "retry.budget is 0 (unlimited): a failing target can multiply the load")
	}
	return w
}

// WritePlan writes p as a human-readable table.
func WritePlan(w io.Writer, p Plan) error {
	ew := &errWriter{w: w}
	ew.printf("scenario %s: %s, %d agents\n", p.Scenario, p.Duration, p.Agents)
	ew.printf("conversations: %.1f expected (%.1f voice, %.1f email), peak %.3g arrivals/s\n\n",
		p.Conversations, p.Voice, p.Email, p.PeakArrivals)
	ew.printf("%-14s %9s %9s %10s %10s %10s %10s\n", "endpoint", "events", "events/s", "requests/s", "peak req/s", "bytes/s", "events/req")
	row := func(name string, e EndpointPlan) {
		ew.printf("%-14s %9.0f %9.2f %10.2f %10.2f %10.0f %10.1f\n", name, e.Events, e.EventsPerSecond,
			e.RequestsPerSecond, e.PeakRequestsPerSecond, e.BytesPerSecond, e.EventsPerRequest)
	}
	for _, ep := range events.Endpoints() {
		row(ep.String(), p.Endpoints[ep])
	}
	row("total", p.Total)
	ew.printf("\n%-42s %9s %9s %9s\n", "event type", "events", "events/s", "bytes/s")
	for _, t := range events.Types() {
		tp := p.Types[t]
		ew.printf("%-42s %9.1f %9.3f %9.0f\n", t, tp.Events, tp.EventsPerSecond, tp.BytesPerSecond)
	}
	if len(p.Warnings) == 0 {
		ew.printf("\nlimits: ok (the platform limit and the scenario's limits can carry the plan)\n")
		return ew.err
	}
	ew.printf("\nwarnings:\n")
	for _, s := range p.Warnings {
		ew.printf("  - %s\n", s)
	}
	return ew.err
}

// errWriter keeps the first write error so a table can be written without
// checking each line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
