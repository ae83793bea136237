// Package scenarios is the scenario language of loadgen: the model of a
// synthetic contact centre (agents, queues, conversation arrivals and
// life-cycles), its strict YAML parser, and the plan that predicts the
// events, requests and bytes per second a scenario will produce.
//
// Parsing is strict: an unknown key, a wrong type, a negative rate, an
// impossible distribution or an out-of-range batching value is an [*Error]
// naming the file, line, column and key path, and wraps [ErrInvalid].
//
// Time in a scenario has two clocks. The run's own values (duration,
// arrival rates and stages, batching linger, retry backoff) are wall-clock
// time. The behaviour of agents and conversations (talk, hold, queue wait,
// breaks, shifts, wrap-up) is scenario time, compressed by timeScale so
// that a five-minute call can play out in a thirty-second run.
//
// The target and the credentials never come from a scenario; they are
// flags and environment variables of the loadgen command.
//
// Every function of the package is safe for concurrent use. A Scenario or
// Plan is plain data owned by the caller: safe to read from several
// goroutines, not to modify while others read it.
//
// The shipped scenarios (default.yaml, contact-center-peak.yaml,
// email-heavy.yaml, soak.yaml, all-events.yaml and the commented
// reference.yaml) live beside this file; default.yaml is embedded and
// returned by [Default].
package scenarios
