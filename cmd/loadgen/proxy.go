package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/loadgen/loadgen/recorder"
)

// cmdProxy runs the recording reverse proxy until ctx is cancelled, then
// drains in-flight requests and closes the capture so it ends on a whole
// line.
func cmdProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on (`host:port`)")
	upstreamFlag := fs.String("upstream", "", "Events API base `URL` to forward to (required), e.g. https://api.mypurecloud.com")
	recordPath := fs.String("record", "", "capture `FILE` to write (required; .gz compresses)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen proxy --upstream URL --record FILE [--listen ADDR]\n\nForwards a producer's requests to the upstream unchanged and records each batch's events.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen proxy: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *upstreamFlag == "" || *recordPath == "" {
		fmt.Fprintln(stderr, "loadgen proxy: --upstream and --record are required")
		fs.Usage()
		return exitUsage
	}
	upstream, err := url.Parse(*upstreamFlag)
	if err != nil || (upstream.Scheme != "http" && upstream.Scheme != "https") || upstream.Host == "" {
		fmt.Fprintln(stderr, "loadgen proxy: --upstream: want an absolute http:// or https:// URL")
		return exitUsage
	}
	if upstream.User != nil {
		fmt.Fprintln(stderr, "loadgen proxy: --upstream: credentials in the URL are not allowed")
		return exitUsage
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen proxy: --listen %q: %v\n", *listen, err)
		return exitUsage
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "loadgen proxy: warning: listening on %s, which is not loopback: anyone who can reach it can post through your upstream\n", *listen)
	}

	w, err := recorder.Create(*recordPath, recorder.Header{Source: "proxy"})
	if err != nil {
		fmt.Fprintf(stderr, "loadgen proxy: --record: %v\n", err)
		return exitUsage
	}
	handler, err := recorder.NewProxy(upstream, w, recorder.ProxyOptions{Log: stderr})
	if err != nil {
		w.Close()
		fmt.Fprintf(stderr, "loadgen proxy: %v\n", err)
		return exitUsage
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		w.Close()
		fmt.Fprintf(stderr, "loadgen proxy: %v\n", err)
		return exitFailed
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	shown := *upstream
	shown.RawQuery = "" // a query could carry a secret
	fmt.Fprintf(stderr, "loadgen proxy: listening on http://%s, forwarding to %s, recording to %s\n", ln.Addr(), shown.String(), *recordPath)

	code := exitOK
	select {
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := srv.Shutdown(shutCtx); err != nil {
			fmt.Fprintf(stderr, "loadgen proxy: shutdown: %v\n", err)
		}
		cancel()
	case err := <-served:
		fmt.Fprintf(stderr, "loadgen proxy: %v\n", err)
		code = exitFailed
	}
	if err := w.Close(); err != nil {
		fmt.Fprintf(stderr, "loadgen proxy: closing the capture: %v\n", err)
		code = exitFailed
	}
	return code
}
