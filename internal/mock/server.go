package mock

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// Paths of the control endpoints and the token endpoint.
const (
	TokenPath = "/oauth/token"
	StatsPath = "/mock/stats"
	ResetPath = "/mock/reset"
)

// Server is the mock Events API. It is an http.Handler; all its methods are
// safe for concurrent use.
type Server struct {
	cfg           Config
	now           func() time.Time
	start         time.Time
	tab           *tables
	clients       map[string]*Client
	order         []string // client ids in configuration order
	perMinute     int      // resolved: 0 = unlimited
	convRetention time.Duration
	idleRetention time.Duration
	idRetention   time.Duration
	pool          sync.Pool // *validator
	// sleep waits for d or until ctx ends; tests replace it so that no test
	// waits in real time.
	sleep func(ctx context.Context, d time.Duration) error

	reqSeq atomic.Uint64 // batch requests that reached the fault stage
	ctxSeq atomic.Uint64 // contextId counter

	authMu sync.Mutex // guards tokens
	tokens map[string]*token

	mu        sync.Mutex // guards everything below
	convs     map[uuid]*conversation
	ids       map[uuid]struct{} // accepted eventIds, current generation
	prevIDs   map[uuid]struct{} // previous generation
	idsSince  time.Time
	lastSweep time.Time
	st        counters
}

type token struct {
	perm     [events.NumEndpoints]bool
	expires  time.Time
	winStart time.Time
	count    int
	epCount  [events.NumEndpoints]int
}

// New returns a Server for cfg, or an error wrapping ErrConfig.
func New(cfg Config) (*Server, error) {
	tab, err := compileTables()
	if err != nil {
		return nil, err
	}
	if err := cfg.Faults.check(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, now: cfg.Now, tab: tab, clients: map[string]*Client{}, tokens: map[string]*token{},
		convs: map[uuid]*conversation{}, ids: map[uuid]struct{}{}, prevIDs: map[uuid]struct{}{}, sleep: sleepCtx}
	if s.now == nil {
		s.now = time.Now
	}
	s.start = s.now()
	s.idsSince, s.lastSweep = s.start, s.start
	s.convRetention = orDefault(cfg.ConversationRetention, DefaultConversationRetention)
	s.idleRetention = orDefault(cfg.IdleRetention, DefaultIdleRetention)
	s.idRetention = orDefault(cfg.IDRetention, DefaultIDRetention)
	if cfg.TokenLifetime < 0 {
		return nil, fmt.Errorf("%w: TokenLifetime %v is negative", ErrConfig, cfg.TokenLifetime)
	}
	switch pm := cfg.RateLimit.PerMinute; {
	case pm == 0:
		s.perMinute = DefaultRatePerMinute
	case pm > 0:
		s.perMinute = pm
	}
	for i, n := range cfg.RateLimit.PerEndpoint {
		if n < 0 {
			return nil, fmt.Errorf("%w: RateLimit.PerEndpoint[%s] %d is negative", ErrConfig, events.Endpoint(i), n)
		}
	}
	clients := cfg.Clients
	if clients == nil {
		c := Client{ID: cfg.ClientID, Secret: cfg.ClientSecret, Permissions: AllPermissions()}
		if c.ID == "" && c.Secret == "" {
			c.ID, c.Secret = newUUIDString(), randomToken()
		}
		clients = []Client{c}
	}
	for i, c := range clients {
		switch {
		case c.ID == "" || c.Secret == "":
			return nil, fmt.Errorf("%w: client %d: id and secret are required", ErrConfig, i)
		case s.clients[c.ID] != nil:
			return nil, fmt.Errorf("%w: client %d: id %q given twice", ErrConfig, i, c.ID)
		case c.TokenLifetime < 0:
			return nil, fmt.Errorf("%w: client %q: negative token lifetime", ErrConfig, c.ID)
		}
		c.Permissions = append([]string(nil), c.Permissions...)
		s.clients[c.ID] = &c
		s.order = append(s.order, c.ID)
	}
	s.pool.New = func() any { return newValidator(s.tab, cfg.AllowUnknownFields) }
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Clients returns the clients that may get tokens, including a generated
// one, so an in-process caller can log in.
func (s *Server) Clients() []Client {
	out := make([]Client, 0, len(s.order))
	for _, id := range s.order {
		c := *s.clients[id]
		c.Permissions = append([]string(nil), c.Permissions...)
		out = append(out, c)
	}
	return out
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.snapshot(len(s.convs))
}

// Reset zeroes the counters and forgets conversations, accepted eventIds
// and rate-limit windows; tokens stay valid. The fault sequence restarts,
// so a seeded run after Reset sees the same faults again.
func (s *Server) Reset() {
	now := s.now()
	s.authMu.Lock()
	for _, t := range s.tokens {
		t.count, t.epCount, t.winStart = 0, [events.NumEndpoints]int{}, time.Time{}
	}
	s.authMu.Unlock()
	s.mu.Lock()
	s.st = counters{}
	s.convs = map[uuid]*conversation{}
	s.ids, s.prevIDs = map[uuid]struct{}{}, map[uuid]struct{}{}
	s.idsSince, s.lastSweep = now, now
	s.reqSeq.Store(0)
	s.mu.Unlock()
}

// ServeHTTP routes a request to the token, batch or control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case TokenPath:
		s.serveToken(w, r)
		return
	case StatsPath:
		if r.Method != http.MethodGet {
			s.writeError(w, http.StatusMethodNotAllowed, "method.not.allowed", "use GET", nil)
			return
		}
		body, err := json.MarshalIndent(s.Stats(), "", "  ")
		if err != nil {
			s.writeError(w, http.StatusInternalServerError, "internal.server.error", err.Error(), nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
		return
	case ResetPath:
		if r.Method != http.MethodPost {
			s.writeError(w, http.StatusMethodNotAllowed, "method.not.allowed", "use POST", nil)
			return
		}
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ep, ok := events.EndpointForPath(r.URL.Path)
	if !ok {
		s.writeError(w, http.StatusNotFound, "not.found", "no resource at "+r.URL.Path, nil)
		return
	}
	s.serveBatch(w, r, ep)
}

// --- token endpoint ---

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, code, desc string) {
		s.mu.Lock()
		s.st.tokensRefused++
		s.mu.Unlock()
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="loadgen mock"`)
		}
		writeJSON(w, status, events.TokenError{Error: code, Description: desc})
	}
	if r.Method != http.MethodPost {
		refuse(http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
		refuse(http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		refuse(http.StatusUnauthorized, "invalid_client", "client authentication required (HTTP Basic)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		refuse(http.StatusBadRequest, "invalid_request", "unreadable form body")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		refuse(http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		refuse(http.StatusBadRequest, "unsupported_grant_type", "grant_type "+strconv.Quote(gt)+" is not supported (want client_credentials)")
		return
	}
	c := s.clients[id]
	// Compare secrets in constant time; never echo them.
	if c == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		refuse(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	life := c.TokenLifetime
	if life == 0 {
		life = orDefault(s.cfg.TokenLifetime, DefaultTokenLifetime)
	}
	now := s.now()
	t := &token{expires: now.Add(life)}
	for _, ep := range events.Endpoints() {
		t.perm[ep] = permitted(c.Permissions, ep.Permission())
	}
	access := randomToken()
	s.authMu.Lock()
	for k, old := range s.tokens {
		if !now.Before(old.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[access] = t
	s.authMu.Unlock()
	s.mu.Lock()
	s.st.tokensIssued++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, events.TokenResponse{AccessToken: access, TokenType: "bearer", ExpiresIn: int64(math.Ceil(life.Seconds()))})
}

// permitted reports whether one of perms grants want; a "*" segment
// matches any value, as in Genesys permission strings.
func permitted(perms []string, want string) bool {
	for _, p := range perms {
		if p == want || p == "*" {
			return true
		}
		ps, ws := strings.Split(p, ":"), strings.Split(want, ":")
		if len(ps) != len(ws) {
			continue
		}
		ok := true
		for i := range ps {
			if ps[i] != "*" && ps[i] != ws[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// --- batch endpoints ---

// errAnswer is a whole-request error answer.
type errAnswer struct {
	status     int
	code, msg  string
	details    []events.Detail
	limit      *events.Limit
	retryAfter int
}

func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request, ep events.Endpoint) {
	now := s.now()
	ctx := r.Context()
	// Faults: everything is drawn up front from this request's own
	// generator, so the draws do not depend on what happens below.
	fr := newFaultRand(s.cfg.Seed, s.reqSeq.Add(1))
	f := &s.cfg.Faults
	failStatus, reset := 0, false
	u := fr.float64()
	for _, x := range f.FailRates {
		if u -= x.Rate; u < 0 {
			failStatus = x.Status
			break
		}
	}
	if failStatus == 0 && u < f.ResetRate {
		reset = true
	}
	delay := f.Latency.sample(fr.float64(), fr.float64())
	slow := fr.float64() < f.SlowBody.Rate && f.SlowBody.Duration > 0

	// refuse answers a request that failed the request checks. Latency is
	// the platform's response time, so it delays these answers too (a 429
	// takes as long to come back as a 202); the other faults do not apply.
	refuse := func(a *errAnswer, bytesIn int64) {
		if delay > 0 {
			s.count(func(c *counters) { c.faults.Delayed++ })
			_ = s.sleep(ctx, delay) // a client that left does not read the answer anyway
		}
		s.answerError(w, ep, a, bytesIn)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(&errAnswer{status: http.StatusMethodNotAllowed, code: "method.not.allowed", msg: "use POST"}, 0)
		return
	}
	if a := s.authorize(r, ep, now); a != nil {
		refuse(a, 0)
		return
	}
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		refuse(&errAnswer{status: http.StatusUnsupportedMediaType, code: "unsupported.media.type",
			msg: fmt.Sprintf("Content-Type %q is not supported; use application/json", r.Header.Get("Content-Type"))}, 0)
		return
	}
	tooLarge := &errAnswer{status: http.StatusRequestEntityTooLarge, code: "request.entity.too.large",
		msg:     fmt.Sprintf("request body exceeds %d bytes", events.MaxRequestBytes),
		limit:   &events.Limit{Key: "request.bytes.max", Namespace: "platform.api", Value: events.MaxRequestBytes},
		details: []events.Detail{{ErrorCode: "request.bytes.max", FieldName: "body"}}}
	if r.ContentLength > events.MaxRequestBytes {
		refuse(tooLarge, 0)
		return
	}
	v := s.pool.Get().(*validator)
	defer s.pool.Put(v)
	buf := bytes.NewBuffer(v.body[:0])
	n, err := buf.ReadFrom(io.LimitReader(r.Body, events.MaxRequestBytes+1))
	v.body = buf.Bytes()
	if err != nil {
		refuse(&errAnswer{status: http.StatusBadRequest, code: "bad.request", msg: "reading the body: " + err.Error()}, n)
		return
	}
	if n > events.MaxRequestBytes {
		refuse(tooLarge, n)
		return
	}
	if err := v.run(ep, v.body); err != nil {
		refuse(&errAnswer{status: http.StatusBadRequest, code: "bad.request", msg: ep.BodyModel() + ": " + err.Error(),
			details: []events.Detail{{ErrorCode: badRequestCode(err), FieldName: "body"}}}, n)
		return
	}

	// The wait ends early when the client leaves or the server shuts down;
	// in the second case the client is still there and must not read a
	// success, so it gets a 503.
	gone := &errAnswer{status: http.StatusServiceUnavailable, code: "service.unavailable",
		msg: "The request was dropped before it was processed; its events were not taken."}
	if d := s.stallLeft(now); d > 0 {
		s.count(func(c *counters) { c.faults.Stalls++ })
		if s.sleep(ctx, d) != nil {
			s.abandon(ep, len(v.recs), n, func(c *counters) { c.faults.StallTimeouts++ })
			s.answerError(w, ep, gone, -1)
			return
		}
	}
	if delay > 0 {
		s.count(func(c *counters) { c.faults.Delayed++ })
		if s.sleep(ctx, delay) != nil {
			s.abandon(ep, len(v.recs), n, func(c *counters) { c.faults.Abandoned++ })
			s.answerError(w, ep, gone, -1)
			return
		}
	}
	if reset {
		if resetConn(w, func() {
			s.abandon(ep, len(v.recs), n, func(c *counters) { c.faults.Resets++; c.ep[ep].answered(0) })
		}) {
			return
		}
		// No hijacking over HTTP/2: a 502 is the nearest honest answer.
		failStatus = http.StatusBadGateway
	}
	if failStatus != 0 {
		s.abandon(ep, len(v.recs), n, func(c *counters) {
			if c.faults.Errors == nil {
				c.faults.Errors = map[string]int64{}
			}
			c.faults.Errors[strconv.Itoa(failStatus)]++
		})
		s.answerError(w, ep, faultAnswer(failStatus), -1)
		return
	}

	v.out = s.process(ep, v, &fr, s.now(), n)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ININ-Correlation-Id", s.contextID())
	if !slow {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(v.out)
		return
	}
	s.count(func(c *counters) { c.faults.SlowBodies++ })
	w.WriteHeader(http.StatusAccepted)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	step := f.SlowBody.Duration / time.Duration(len(v.out)+1)
	for i := range v.out {
		if s.sleep(ctx, step) != nil {
			return
		}
		if _, err := w.Write(v.out[i : i+1]); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

func badRequestCode(err error) string {
	switch {
	case errors.Is(err, errSyntax):
		return "invalid.json"
	case errors.Is(err, errTooManyEvents):
		return "too.many.events"
	}
	return "invalid.body"
}

func faultAnswer(status int) *errAnswer {
	switch status {
	case http.StatusBadGateway:
		return &errAnswer{status: status, code: "bad.gateway", msg: "The server received an invalid response from an upstream server (injected fault)."}
	case http.StatusServiceUnavailable:
		return &errAnswer{status: status, code: "service.unavailable", msg: "Service is currently unavailable (injected fault)."}
	case http.StatusGatewayTimeout:
		return &errAnswer{status: status, code: "request.timeout", msg: "The request timed out (injected fault)."}
	}
	return &errAnswer{status: status, code: "internal.server.error", msg: "The server encountered an unexpected error (injected fault)."}
}

// authorize checks the bearer token, the permission and the rate limit,
// and counts the request against the limit.
func (s *Server) authorize(r *http.Request, ep events.Endpoint, now time.Time) *errAnswer {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return &errAnswer{status: http.StatusUnauthorized, code: "authentication.required",
			msg: "No authentication bearer token specified in authorization header."}
	}
	s.authMu.Lock()
	defer s.authMu.Unlock()
	t := s.tokens[tok]
	switch {
	case t == nil:
		return &errAnswer{status: http.StatusUnauthorized, code: "bad.credentials", msg: "Invalid login credentials."}
	case !now.Before(t.expires):
		delete(s.tokens, tok)
		return &errAnswer{status: http.StatusUnauthorized, code: "credentials.expired", msg: "The supplied credentials are expired and cannot be used."}
	case !t.perm[ep]:
		return &errAnswer{status: http.StatusForbidden, code: "missing.any.permissions",
			msg:     "Unable to perform the requested action. You are missing the following permission(s): [" + ep.Permission() + "]",
			details: []events.Detail{{ErrorCode: "missing.permission", FieldName: ep.Permission()}}}
	}
	if t.winStart.IsZero() || now.Sub(t.winStart) >= time.Minute || now.Before(t.winStart) {
		t.winStart, t.count, t.epCount = now, 0, [events.NumEndpoints]int{}
	}
	throttle := func(key, ns string, value int) *errAnswer {
		after := int(math.Ceil(t.winStart.Add(time.Minute).Sub(now).Seconds()))
		after = max(after, 1)
		return &errAnswer{status: http.StatusTooManyRequests, code: "too.many.requests.retry.after",
			msg:        fmt.Sprintf("Rate limit exceeded the maximum. Retry the request in [%d] seconds", after),
			limit:      &events.Limit{Key: key, Namespace: ns, Value: int64(value)},
			retryAfter: after}
	}
	if s.perMinute > 0 && t.count >= s.perMinute {
		return throttle("token.rate.per.minute", "platform.api", s.perMinute)
	}
	if n := s.cfg.RateLimit.PerEndpoint[ep]; n > 0 && t.epCount[ep] >= n {
		return throttle("events."+ep.String()+".rate.per.minute", "events", n)
	}
	t.count++
	t.epCount[ep]++
	return nil
}

// answerError counts and writes a whole-request error. bytesIn < 0 means
// the request was already counted.
func (s *Server) answerError(w http.ResponseWriter, ep events.Endpoint, a *errAnswer, bytesIn int64) {
	if bytesIn >= 0 {
		s.count(func(c *counters) {
			e := &c.ep[ep]
			e.Requests++
			e.BytesIn += bytesIn
			if a.status == http.StatusTooManyRequests {
				e.Throttled++
			}
		})
	}
	s.count(func(c *counters) { c.ep[ep].answered(a.status) })
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	s.writeError(w, a.status, a.code, a.msg, func(b *events.ErrorBody) {
		b.Details, b.Limit = a.details, a.limit
		if a.retryAfter > 0 {
			b.MessageWithParams = "Rate limit exceeded the maximum. Retry the request in [{retryAfterSeconds}] seconds"
			b.MessageParams = map[string]string{"retryAfterSeconds": strconv.Itoa(a.retryAfter)}
		}
	})
}

// abandon counts a request whose events were not processed because of a
// fault.
func (s *Server) abandon(ep events.Endpoint, nev int, bytesIn int64, f func(*counters)) {
	s.count(func(c *counters) {
		e := &c.ep[ep]
		e.Requests++
		e.BytesIn += bytesIn
		e.Faulted++
		e.FaultedEvents += int64(nev)
		f(c)
	})
}

func (s *Server) count(f func(*counters)) {
	s.mu.Lock()
	f(&s.st)
	s.mu.Unlock()
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, msg string, more func(*events.ErrorBody)) {
	b := events.ErrorBody{Message: msg, Code: code, Status: status, ContextID: s.contextID()}
	if more != nil {
		more(&b)
	}
	w.Header().Set("ININ-Correlation-Id", b.ContextID)
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"message":"encoding failed","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// process applies a validated batch under the state lock and returns the
// BatchEventResponse body.
func (s *Server) process(ep events.Endpoint, v *validator, fr *faultRand, now time.Time, bytesIn int64) []byte {
	out := append(v.out[:0], `{"errors":[`...)
	nerr := 0
	reject := func(rec *record, msg string, retryable bool) {
		if nerr > 0 {
			out = append(out, ',')
		}
		nerr++
		out = append(out, `{"eventId":`...)
		out = events.AppendString(out, string(rec.eventID))
		out = append(out, `,"message":`...)
		out = events.AppendString(out, msg)
		out = append(out, `,"retryable":`...)
		out = strconv.AppendBool(out, retryable)
		out = append(out, '}')
	}
	f := &s.cfg.Faults
	s.mu.Lock()
	s.sweep(now)
	st := &s.st
	e := &st.ep[ep]
	e.Requests++
	e.BytesIn += bytesIn
	e.answered(http.StatusAccepted)
	st.unknownFields += int64(v.unknown)
	for i := range v.recs {
		rec := &v.recs[i]
		ts := &st.types[rec.typ]
		u := fr.float64() // one draw per event keeps draws aligned to body positions
		switch {
		case rec.problem != "":
			reject(rec, rec.problem, false)
			e.Rejected++
			ts.Rejected++
			continue
		case s.seen(rec.id):
			// Idempotent: answered as accepted, counted once.
			e.Duplicates++
			ts.Duplicates++
			st.viol.DuplicateEventID++
			st.viol.Total++
			continue
		case u < f.RejectRate:
			reject(rec, prefix(rec)+"rejected by fault injection", false)
			e.Rejected++
			ts.Rejected++
			st.faults.Rejected++
			continue
		case u < f.RejectRate+f.RejectRetryableRate:
			reject(rec, prefix(rec)+"temporarily rejected by fault injection; retry", true)
			e.RetryableRejections++
			ts.RetryableRejections++
			st.faults.RejectedRetryable++
			continue
		}
		if ep == events.Conversations && rec.hasConv {
			lc := lifeCycleOf(rec.typ)
			c := s.convs[rec.conv]
			if bad, msg := c.check(rec, lc); bad != 0 {
				st.viol.add(bad)
				if s.cfg.StrictSequence {
					reject(rec, prefix(rec)+msg, false)
					e.Rejected++
					ts.Rejected++
					continue
				}
			}
			if c == nil {
				c = &conversation{}
				s.convs[rec.conv] = c
			}
			c.apply(rec, lc, now)
		}
		s.ids[rec.id] = struct{}{}
		e.Accepted++
		ts.Accepted++
	}
	s.mu.Unlock()
	if nerr == 0 {
		return append(out[:0], "{}"...)
	}
	return append(out, "]}"...)
}

// stallLeft returns how long the current stall still lasts, 0 outside one.
func (s *Server) stallLeft(now time.Time) time.Duration {
	st := s.cfg.Faults.Stall
	if st.Every <= 0 || st.For <= 0 {
		return 0
	}
	el := now.Sub(s.start)
	if el < st.Every {
		return 0
	}
	if phase := el % st.Every; phase < st.For {
		return st.For - phase
	}
	return 0
}

// resetConn closes the connection without an answer: it is hijacked and
// closed with SO_LINGER 0, so the client sees a TCP reset. count runs after
// the hijack and before the close, so Stats already shows the reset when
// the client notices it. It reports false when the connection cannot be
// hijacked (HTTP/2), leaving w untouched.
func resetConn(w http.ResponseWriter, count func()) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	count()
	nc := conn
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		nc = tc.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// contextID returns a fresh id in UUID form for ErrorBody.contextId.
func (s *Server) contextID() string {
	r := newFaultRand(s.cfg.Seed^0x5bd1e995, s.ctxSeq.Add(1))
	var u uuid
	a, b := r.next(), r.next()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// randomToken returns 32 random bytes, base64url: access tokens and
// generated secrets must not be guessable.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newUUIDString() string {
	var u uuid
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// faultRand is splitmix64: tiny, allocation-free and good enough to draw
// faults. Each request gets its own stream from (seed, sequence number).
type faultRand struct{ s uint64 }

func newFaultRand(seed int64, seq uint64) faultRand {
	r := faultRand{s: uint64(seed)}
	r.s = r.next() ^ seq*0x9e3779b97f4a7c15
	return r
}

func (r *faultRand) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float64 returns a uniform value in [0, 1).
func (r *faultRand) float64() float64 { return float64(r.next()>>11) / (1 << 53) }
