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
// Decisions where the platform's behaviour is not documented:
//   - UUIDs must be hyphenated 8-4-4-4-12 hex; upper case is accepted (the
//     platform is Java, whose UUID parsing ignores case) and names the same
//     id as lower case.
//   - Date-times must be yyyy-MM-ddTHH:mm:ss[.f…]Z with 1–9 fraction digits,
//     a real calendar date and no offset other than Z.
//   - A field the event type does not define makes the event invalid
//     (Config.AllowUnknownFields accepts and counts it instead): a
//     misspelt optional field is a client bug a lenient server would hide.
//   - A null optional field counts as absent; a null or empty required
//     field is invalid; a wrong JSON type makes only that event invalid.
//   - Whole-request problems (JSON syntax, a property that is not an event
//     array of the endpoint, a non-object element, more than 100 events)
//     answer 400 with the Genesys error body.
//
// Stats counts each accepted eventId once, so it can be compared with a
// client's per-event ledger: an eventId accepted again (a retry whose first
// answer was lost) is answered as accepted but counted as a duplicate.
package mock
