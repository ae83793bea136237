package recorder

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/loadgen/loadgen/internal/events"
)

// ProxyOptions tune NewProxy. The zero value is ready to use.
type ProxyOptions struct {
	// Transport carries requests to the upstream; nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Now is the clock for arrival offsets; nil means time.Now. Offsets count
	// from the moment NewProxy is called.
	Now func() time.Time
	// MaxBodyBytes caps a request body the proxy reads to record; a larger
	// body is answered 413 without being forwarded. 0 means 8 MiB.
	MaxBodyBytes int64
	// Log receives one line per batch that could not be recorded (the
	// request is still forwarded). It never carries headers or tokens.
	// nil discards.
	Log io.Writer
}

// NewProxy returns a recording reverse proxy. It forwards every request to
// upstream unchanged (method, path under upstream's path, query, headers
// including Authorization, body), returns the upstream's status, headers
// and body, and writes the events of each POST to one of the three batch
// endpoints to w, one capture line per event, with the offset at which the
// batch arrived (taken under w's lock, so offsets never go backwards even
// when requests overlap). Only bodies are recorded, never headers, so a
// bearer token cannot reach the capture. The handler is safe for concurrent
// use; closing w stays the caller's job.
func NewProxy(upstream *url.URL, w *Writer, opts ProxyOptions) (http.Handler, error) {
	if upstream == nil || (upstream.Scheme != "http" && upstream.Scheme != "https") || upstream.Host == "" {
		return nil, fmt.Errorf("recorder: proxy: upstream %v: want an absolute http or https URL", redact(upstream))
	}
	if w == nil {
		return nil, errors.New("recorder: proxy: nil capture writer")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	target := *upstream
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&target)
		},
		Transport: opts.Transport,
		ErrorHandler: func(rw http.ResponseWriter, r *http.Request, err error) {
			// No request details: the URL could carry a query secret.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			fmt.Fprintf(opts.Log, "loadgen proxy: upstream: %v\n", err)
			rw.WriteHeader(http.StatusBadGateway)
		},
	}
	return &proxy{rp: rp, w: w, opts: opts, start: opts.Now()}, nil
}

// redact returns u without user info or query, for messages.
func redact(u *url.URL) string {
	if u == nil {
		return "<nil>"
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}

type proxy struct {
	rp    *httputil.ReverseProxy
	w     *Writer
	opts  ProxyOptions
	start time.Time
}

func (p *proxy) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	ep, isEvents := events.EndpointForPath(r.URL.Path)
	if r.Method != http.MethodPost || !isEvents || r.Body == nil {
		p.rp.ServeHTTP(rw, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, p.opts.MaxBodyBytes+1))
	r.Body.Close()
	if err != nil {
		http.Error(rw, "loadgen proxy: reading the request body failed", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > p.opts.MaxBodyBytes {
		http.Error(rw, "loadgen proxy: request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	p.record(ep, r.Header.Get("Content-Encoding"), body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.rp.ServeHTTP(rw, r)
}

// record writes a batch's events; a body it cannot read is logged and
// forwarded anyway, since the upstream's answer to it is what the producer
// must see.
func (p *proxy) record(ep events.Endpoint, encoding string, body []byte) {
	plain := body
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			plain, err = io.ReadAll(io.LimitReader(zr, p.opts.MaxBodyBytes+1))
		}
		if err != nil || int64(len(plain)) > p.opts.MaxBodyBytes {
			fmt.Fprintf(p.opts.Log, "loadgen proxy: %s batch not recorded: undecodable gzip body\n", ep)
			return
		}
	}
	raws, err := events.SplitBatch(ep, plain)
	if err != nil {
		fmt.Fprintf(p.opts.Log, "loadgen proxy: %s batch not recorded: %v\n", ep, err)
		return
	}
	kept := raws[:0]
	for i, raw := range raws {
		id, _, err := topStrings(raw.JSON, "eventId", "")
		if s, _ := unquote(id); err != nil || s == "" {
			fmt.Fprintf(p.opts.Log, "loadgen proxy: %s batch: event %d (%s) not recorded: no eventId\n", ep, i, raw.Type)
			continue
		}
		kept = append(kept, raw)
	}
	raws = kept
	if err := p.w.writeBatch(func() time.Duration { return p.opts.Now().Sub(p.start) }, raws); err != nil {
		fmt.Fprintf(p.opts.Log, "loadgen proxy: %s batch not recorded: %v\n", ep, err)
	}
}

// writeBatch writes raw events of one batch at the offset now() returns,
// read under the lock so that lines stay in offset order, then flushes so a
// killed proxy loses no batch it forwarded.
func (w *Writer) writeBatch(now func() time.Duration, raws []events.RawEvent) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := max(now(), w.last)
	for i, raw := range raws {
		if err := w.writeLocked(at, raw.Type, raw.JSON); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}
