// Package events is the Genesys Cloud Events API wire model: the 34 event
// types with every field of the public SDK models, the three batch request
// bodies, BatchEventResponse and the Genesys error body, the endpoint names,
// and the field metadata (kinds, required flags, enums) that the mock
// validates against.
//
// The event structs and their metadata are generated from testdata/schema.json
// (go generate); schema_test.go proves the two agree both ways.
//
// Events travel through loadgen already encoded: an [Event] carries the JSON
// object exactly as it will be sent, so batching, capture and replay never
// re-encode. Typed structs encode themselves by appending to a reused buffer
// (AppendJSON), without reflection.
package events

//go:generate go run ./internal/gen testdata/schema.json model_gen.go
