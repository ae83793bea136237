package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// TokenSource supplies bearer tokens. Implementations must be safe for
// concurrent use: every lane asks for the token before each attempt.
type TokenSource interface {
	// Token returns a valid access token, fetching one if needed.
	Token(ctx context.Context) (string, error)
	// Invalidate reports that the target refused token (401), so the next
	// Token call must not return it.
	Invalidate(token string)
}

// StaticToken returns a TokenSource that always returns token (e.g. from
// GENESYSCLOUD_ACCESS_TOKEN). It cannot refresh, so a 401 stays a 401. It is
// safe for concurrent use.
func StaticToken(token string) TokenSource { return staticToken(token) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }
func (s staticToken) Invalidate(string)                     {}

// ClientCredentials is a TokenSource for the OAuth2 client-credentials
// grant. One token is shared by all workers; it is refreshed in the
// background before it expires, so refreshing stays off the timed path. It is
// safe for concurrent use.
type ClientCredentials struct {
	tokenURL, clientID, clientSecret string
	hc                               *http.Client
	now                              func() time.Time

	mu         sync.Mutex
	token      string
	expires    time.Time // when the token stops working
	refreshAt  time.Time // when a background refresh starts
	refreshing bool
	fetching   chan struct{} // closed when a synchronous fetch ends; nil when none runs
	fetchErr   error
}

// tokenTimeout bounds one token request.
const tokenTimeout = 15 * time.Second

// NewClientCredentials returns a TokenSource that asks POST
// {loginBase}/oauth/token with HTTP Basic auth and
// grant_type=client_credentials. hc nil means a default client with a
// timeout. No request is made until the first Token call.
func NewClientCredentials(loginBase, clientID, clientSecret string, hc *http.Client) *ClientCredentials {
	if hc == nil {
		hc = &http.Client{Timeout: tokenTimeout}
	}
	return &ClientCredentials{
		tokenURL:     strings.TrimRight(loginBase, "/") + "/oauth/token",
		clientID:     clientID,
		clientSecret: clientSecret,
		hc:           hc,
		now:          time.Now,
	}
}

// Token returns the shared token. A token within its refresh window is
// still returned while a background refresh replaces it; only a missing or
// expired token makes the caller wait (and concurrent callers share that one
// fetch).
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	for {
		now := c.now()
		if c.token != "" && now.Before(c.expires) {
			tok := c.token
			if !now.Before(c.refreshAt) && !c.refreshing && c.fetching == nil {
				c.refreshing = true
				// The refresh must outlive the caller's request but not hang.
				go c.refresh(context.WithoutCancel(ctx))
			}
			c.mu.Unlock()
			return tok, nil
		}
		if c.fetching == nil {
			break
		}
		done := c.fetching
		c.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return "", context.Cause(ctx)
		}
		c.mu.Lock()
		if c.token == "" && c.fetchErr != nil {
			err := c.fetchErr
			c.mu.Unlock()
			return "", err
		}
	}
	done := make(chan struct{})
	c.fetching = done
	c.mu.Unlock()

	tok, exp, err := c.fetch(ctx)

	c.mu.Lock()
	c.fetching = nil
	c.fetchErr = err
	if err == nil {
		c.set(tok, exp)
	}
	c.mu.Unlock()
	close(done)
	return tok, err
}

// set stores a token; c.mu must be held. The refresh starts at 80 % of the
// lifetime but at least a minute before expiry when the lifetime allows,
// like the Genesys SDKs.
func (c *ClientCredentials) set(tok string, lifetime time.Duration) {
	now := c.now()
	c.token = tok
	c.expires = now.Add(lifetime)
	lead := lifetime / 5
	if lead < time.Minute && lifetime > 2*time.Minute {
		lead = time.Minute
	}
	c.refreshAt = c.expires.Add(-lead)
}

func (c *ClientCredentials) refresh(ctx context.Context) {
	tok, exp, err := c.fetch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err == nil {
		c.set(tok, exp)
	}
	// On error the old token stays until it expires; the next Token call
	// past refreshAt tries again.
}

// Invalidate drops token if it is the current one, so the next Token call
// fetches a new one.
func (c *ClientCredentials) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

// fetch asks the token endpoint. Its errors never contain the secret or
// the token.
func (c *ClientCredentials) fetch(ctx context.Context) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", 0, fmt.Errorf("%w: token URL %s: %v", ErrConfig, c.tokenURL, err)
	}
	req.SetBasicAuth(c.clientID, c.clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named below, once
		}
		if ctx.Err() != nil && context.Cause(ctx) != context.DeadlineExceeded {
			return "", 0, fmt.Errorf("token request to %s: %w", c.tokenURL, context.Cause(ctx))
		}
		return "", 0, fmt.Errorf("%w: token endpoint %s: %v", ErrUnreachable, c.tokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, fmt.Errorf("%w: token endpoint %s: reading response: %v", ErrUnreachable, c.tokenURL, err)
	}
	tok, lifetime, err := parseTokenResponse(resp.StatusCode, body)
	if err != nil {
		return "", 0, fmt.Errorf("token endpoint %s: %w", c.tokenURL, err)
	}
	return tok, lifetime, nil
}

// parseTokenResponse reads the token endpoint's answer. Errors wrap ErrAuth
// when the server refused us, and quote only the server's error fields.
func parseTokenResponse(status int, body []byte) (string, time.Duration, error) {
	if status < 200 || status > 299 {
		var te events.TokenError
		if json.Unmarshal(body, &te) == nil && te.Error != "" {
			msg := te.Error
			if te.Description != "" {
				msg += ": " + te.Description
			}
			return "", 0, fmt.Errorf("%w: HTTP %d: %s", ErrAuth, status, msg)
		}
		return "", 0, fmt.Errorf("%w: HTTP %d %s", ErrAuth, status, http.StatusText(status))
	}
	var tr events.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", 0, fmt.Errorf("%w: HTTP %d: response is not a token response: %v", ErrAuth, status, err)
	}
	if tr.AccessToken == "" {
		return "", 0, fmt.Errorf("%w: HTTP %d: response has no access_token", ErrAuth, status)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("%w: token_type %q, want bearer", ErrAuth, tr.TokenType)
	}
	lifetime := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 || tr.ExpiresIn > 365*24*3600 {
		lifetime = time.Hour // the field is missing or absurd: assume a short life and refresh early
	}
	return tr.AccessToken, lifetime, nil
}
