// Command gen writes the Events API wire model (model_gen.go) from the
// schema.json kept in internal/events/testdata. Run it with `go generate
// ./internal/events`; the schema test then proves the output matches.
package main
