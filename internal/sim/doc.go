// Package sim turns a scenario into a deterministic stream of timed Events
// API events: agents that log in, take breaks, answer, miss and wrap up
// interactions, and voice and email conversations that follow the
// life-cycles of the Events API (IVR, queue, alert, answer, hold, mute,
// blind, user, external and consult transfers, replies, follow-ups,
// disconnect and disposition).
//
// A Sim is a discrete-event simulation: a priority queue of pending timed
// actions (ordered by time, then by creation) and the live state of agents
// and conversations. Its memory is proportional to that live state, not to
// the run's duration. Every random choice comes from PCG generators seeded
// from the scenario's seed and the shard, and ids are UUIDv4s drawn from
// them, so the same scenario, seed and start give a byte-identical stream.
//
// Events come out already encoded (events.Encoder), in order of their
// intended send time, and obey the life-cycle rules of docs/contracts.md:
// every leg is established before it is used or referenced, nothing follows
// a leg's end but one disposition, and every transfer's Progress/End
// events follow its start.
package sim
