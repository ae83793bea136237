package report

import "errors"

// Sentinel errors, checked with errors.Is. The errors the package returns
// wrap one of them and name the file, field or expression at fault.
var (
	// ErrLedger means the event ledger does not balance: for some scope,
	// generated != accepted + rejected + failed + unsent.
	ErrLedger = errors.New("event ledger does not balance")
	// ErrThreshold marks a threshold expression that cannot be parsed.
	ErrThreshold = errors.New("bad threshold")
	// ErrSchema marks a run.json that is not one this version can read:
	// malformed JSON, a missing or newer schemaVersion, a bad histogram.
	ErrSchema = errors.New("bad run.json")
	// ErrMerge marks runs that cannot be merged.
	ErrMerge = errors.New("cannot merge runs")
	// ErrFailuresWrite means the failures.ndjson stream could not be written.
	ErrFailuresWrite = errors.New("cannot write failures stream")
)
