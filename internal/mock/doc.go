// Package mock is a mock Genesys Cloud Events API: an http.Handler that is
// as strict as the real service and counts exactly what it took.
//
// A Server answers POST /oauth/token (client-credentials grant, HTTP Basic
// auth), the three batch endpoints (/api/v2/events/conversations,
// /api/v2/events/users/presence, /api/v2/events/users/routingstatus), and
// two control endpoints: GET /mock/stats and POST /mock/reset.
//
// Each batch is checked the way the platform checks it — bearer token,
// permission, per-token rate limit, content type, size, JSON syntax, event
// count — and then every event is validated against the field metadata of
// package events by a single-pass scanner over the raw body (no reflection,
// no per-event allocation). Invalid events are named in
// BatchEventResponse.errors; the valid ones are accepted. Conversation
// events are also checked against the life-cycle rules of docs/contracts.md
// and the violations are counted (or, with Config.StrictSequence, rejected).
//
// Faults (latency, 5xx answers, connection resets, stalls, slow bodies and
// per-event rejections) are drawn from a generator seeded by Config.Seed and
// the request's sequence number, so one seed gives the same faults for the
// same request order.
//
// Stats counts each accepted eventId once, so it can be compared with a
// client's per-event ledger: an eventId accepted again (a retry whose first
// answer was lost) is answered as accepted but counted as a duplicate.
package mock
