// Package recorder is loadgen's capture format and replay machinery: the
// capture [Writer] and [Reader] (NDJSON, optionally gzip; plain logs of
// request bodies are read too), [Tee] to record a run as the engine takes its
// events, [Replay] to turn a capture back into a timed event source (speed,
// window, loops, fresh IDs, shifted timestamps), the deterministic ID
// [Rewriter], and [NewProxy], a recording reverse proxy in front of an Events
// API.
//
// A capture is a header line followed by one line per event:
//
//	{"kind":"loadgen-capture","version":1,"created":"…","scenario":"…",…}
//	{"offsetMs":1250.5,"endpoint":"routingstatus","type":"UserRoutingStatusEvent","event":{…}}
//
// The event object is copied byte for byte from [events.Event.JSON]. Lines are
// written whole, so a writer killed mid-run leaves a file that reads up to its
// last complete line. Secrets never enter a capture: the header has no place
// for them and the proxy records request bodies only, never headers.
package recorder
