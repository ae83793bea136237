package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/internal/mock"
)

// serveList is a repeatable string flag.
type serveList []string

func (l *serveList) String() string     { return strings.Join(*l, ",") }
func (l *serveList) Set(v string) error { *l = append(*l, v); return nil }

// cmdServe runs the mock Events API until ctx is cancelled, then prints its
// final stats as JSON on stdout.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen serve [flags]\n\nRuns the mock Genesys Cloud Events API (token endpoint, the three batch\nendpoints, GET /mock/stats, POST /mock/reset). Final stats go to stdout.\n\nflags:")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (loopback by default; use port 0 for any free port)")
	clientsFile := fs.String("clients", "", "YAML `file` of OAuth clients (default: GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET from the environment, else a generated client)")
	tokenLife := fs.Duration("token-lifetime", mock.DefaultTokenLifetime, "access token `lifetime`")
	rateLimit := fs.Int("rate-limit", mock.DefaultRatePerMinute, "requests per minute per token, all endpoints (0 or negative: unlimited)")
	var epLimits, fails serveList
	fs.Var(&epLimits, "rate-limit-endpoint", "`NAME=N` requests per minute per token on one endpoint (conversations, presence, routingstatus); repeatable")
	strict := fs.Bool("strict-sequence", false, "reject life-cycle violations instead of only counting them")
	allowUnknown := fs.Bool("allow-unknown-fields", false, "accept (and count) fields an event type does not define instead of rejecting the event")
	latency := fs.String("latency", "none", "answer latency `spec`: fixed:20ms, uniform:5ms,50ms or lognormal:MEDIAN,P99")
	fs.Var(&fails, "fail", "answer a share of batches with a 5xx: `STATUS:RATE`, e.g. 503:0.01; repeatable")
	resetRate := fs.String("reset-rate", "0", "share of batches whose connection is reset without an answer")
	stall := fs.String("stall", "", "`EVERY,FOR`: every EVERY the server stops answering for FOR, e.g. 30s,5s")
	slowBody := fs.String("slow-body", "", "`[RATE,]DURATION`: spread a share of answer bodies over DURATION, e.g. 0.1,2s")
	rejectRate := fs.String("reject-rate", "0", "share of valid events rejected with retryable false")
	rejectRetry := fs.String("reject-retryable-rate", "0", "share of valid events rejected with retryable true")
	seed := fs.Int64("seed", 1, "seed of the injected faults")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate for 127.0.0.1, ::1 and localhost")
	certOut := fs.String("cert-out", "", "with --tls, write the certificate as PEM to `file` (trust it with the client's --ca-cert)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "loadgen serve: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *certOut != "" && !*useTLS {
		return usageErr("--cert-out needs --tls")
	}

	cfg := mock.Config{TokenLifetime: *tokenLife, StrictSequence: *strict, AllowUnknownFields: *allowUnknown, Seed: *seed}
	if *tokenLife <= 0 {
		return usageErr("--token-lifetime %v: want a positive duration", *tokenLife)
	}
	cfg.RateLimit.PerMinute = *rateLimit
	if *rateLimit <= 0 {
		cfg.RateLimit.PerMinute = -1
	}
	for _, spec := range epLimits {
		name, n, ok := strings.Cut(spec, "=")
		ep, err := events.ParseEndpoint(name)
		limit, err2 := strconv.Atoi(n)
		if !ok || err != nil || err2 != nil || limit < 0 {
			return usageErr("--rate-limit-endpoint %q: want NAME=N with NAME conversations, presence or routingstatus and N >= 0", spec)
		}
		cfg.RateLimit.PerEndpoint[ep] = limit
	}
	var err error
	if cfg.Faults.Latency, err = mock.ParseLatency(*latency); err != nil {
		return usageErr("--latency: %v", err)
	}
	for _, spec := range fails {
		status, rate, err := mock.ParseFailRate(spec)
		if err != nil {
			return usageErr("--fail: %v", err)
		}
		cfg.Faults.FailRates = append(cfg.Faults.FailRates, mock.FailRate{Status: status, Rate: rate})
	}
	for _, r := range []struct {
		flag string
		spec string
		dst  *float64
	}{
		{"reset-rate", *resetRate, &cfg.Faults.ResetRate},
		{"reject-rate", *rejectRate, &cfg.Faults.RejectRate},
		{"reject-retryable-rate", *rejectRetry, &cfg.Faults.RejectRetryableRate},
	} {
		if *r.dst, err = mock.ParseRate(r.spec); err != nil {
			return usageErr("--%s: %v", r.flag, err)
		}
	}
	if *stall != "" {
		if cfg.Faults.Stall, err = mock.ParseStall(*stall); err != nil {
			return usageErr("--stall: %v", err)
		}
	}
	if *slowBody != "" {
		if cfg.Faults.SlowBody, err = mock.ParseSlowBody(*slowBody); err != nil {
			return usageErr("--slow-body: %v", err)
		}
	}
	generated := false
	if *clientsFile != "" {
		if cfg.Clients, err = mock.LoadClients(*clientsFile); err != nil {
			return usageErr("--clients: %v", err)
		}
	} else {
		id, secret := os.Getenv("GENESYSCLOUD_OAUTHCLIENT_ID"), os.Getenv("GENESYSCLOUD_OAUTHCLIENT_SECRET")
		switch {
		case id != "" && secret != "":
			cfg.ClientID, cfg.ClientSecret = id, secret
		case id != "" || secret != "":
			return usageErr("set both GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET, or neither")
		default:
			generated = true
		}
	}
	srv, err := mock.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}

	if host, _, err := net.SplitHostPort(*addr); err != nil {
		return usageErr("--addr %q: %v", *addr, err)
	} else if !serveLoopback(host) {
		fmt.Fprintf(stderr, "loadgen serve: warning: %s is not a loopback address; anyone who can reach it can use the mock\n", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen serve: listen on %s: %v\n", *addr, err)
		return exitFailed
	}
	scheme := "http"
	if *useTLS {
		cert, certPEM, err := serveSelfSigned(time.Now())
		if err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "loadgen serve: certificate: %v\n", err)
			return exitFailed
		}
		if *certOut != "" {
			if err := os.WriteFile(*certOut, certPEM, 0o644); err != nil {
				ln.Close()
				return usageErr("--cert-out: %v", err)
			}
		}
		// No "h2" in NextProtos: HTTP/1.1 only, so connection resets can
		// hijack the connection.
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	if generated {
		c := srv.Clients()[0]
		// The mock's own throwaway credentials: printing them is the point.
		fmt.Fprintf(stderr, "loadgen serve: generated client id=%s secret=%s\n", c.ID, c.Secret)
		fmt.Fprintf(stderr, "loadgen serve: use them with GENESYSCLOUD_OAUTHCLIENT_ID / GENESYSCLOUD_OAUTHCLIENT_SECRET and --target %s\n", url)
	}
	if *useTLS && *certOut != "" {
		fmt.Fprintf(stderr, "loadgen serve: certificate written to %s\n", *certOut)
	}
	fmt.Fprintf(stderr, "loadgen serve: listening on %s\n", url)

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(stderr, "loadgen serve: ", 0),
		// Requests inherit ctx, so held (stalled or delayed) requests end
		// when the command is stopped.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		fmt.Fprintf(stderr, "loadgen serve: %v\n", err)
		return exitFailed
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		hs.Close()
	}
	out, err := json.MarshalIndent(srv.Stats(), "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "loadgen serve: stats: %v\n", err)
		return exitFailed
	}
	if _, err := stdout.Write(append(out, '\n')); err != nil {
		fmt.Fprintf(stderr, "loadgen serve: writing stats: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stderr, "loadgen serve: stopped")
	return exitOK
}

func serveLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveSelfSigned makes a self-signed certificate for the loopback names,
// valid for a week, and returns it with its PEM encoding.
func serveSelfSigned(now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "loadgen mock Events API"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so a client can use it directly as its root
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}
