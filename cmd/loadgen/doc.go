// Command loadgen is a load and replay test harness for the Genesys Cloud
// Events API: it simulates a contact centre (or replays a capture) and posts
// the events in batches to the conversations, users/presence and
// users/routingstatus endpoints of a target — by default an embedded mock on
// loopback — and writes a per-event ledger, HDR latency histograms and
// reports.
//
// Usage:
//
//	loadgen run [SCENARIO.yaml]         simulate and send (default scenario, embedded mock)
//	loadgen replay CAPTURE              replay a capture on its original timing
//	loadgen serve                       the mock Events API
//	loadgen proxy                       a recording reverse proxy
//	loadgen validate SCENARIO.yaml      check a scenario and print its plan
//	loadgen report RUN.json             re-render HTML / JUnit / text
//	loadgen compare BASE.json HEAD.json regression check
//	loadgen merge -o DIR RUN.json...    merge shard results exactly
//
// Exit codes: 0 ok, 1 a threshold or comparison failed, 2 bad usage or input,
// 3 the run itself failed. stdout carries data, stderr progress and logs.
//
// main only turns signals into a cancelled context and calls run, which the
// end-to-end tests drive directly.
package main
