// Package report turns the results of a run into its artefacts: the
// per-event ledger, HDR latency histograms per endpoint, the timeline, the
// schema-versioned run.json, failures.ndjson, the self-contained HTML report,
// JUnit XML and the text summary; it also evaluates thresholds, compares two
// runs and merges shard results exactly.
//
// The engine sends it one [Result] per request attempt. Report depends only
// on the wire model (internal/events), so a saved run.json can be re-rendered,
// compared or merged without the machinery that produced it.
package report
