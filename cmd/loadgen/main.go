package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, as DESIGN.md fixes them.
const (
	exitOK        = 0 // everything passed
	exitThreshold = 1 // a threshold or comparison failed
	exitUsage     = 2 // bad usage, bad scenario or bad input file
	exitFailed    = 3 // the run itself failed: target unreachable, auth refused, internal error
)

// errSignal is the cancel cause when the user interrupts a run.
var errSignal = errors.New("interrupted by signal")

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// First signal: stop scheduling and drain. Second: leave at once;
		// files are written line by line, so what is on disk stays valid.
		<-sigs
		fmt.Fprintln(os.Stderr, "loadgen: stopping (draining in-flight requests; signal again to exit at once)")
		cancel(errSignal)
		<-sigs
		fmt.Fprintln(os.Stderr, "loadgen: exiting at once")
		os.Exit(exitFailed)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	fn      func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	summary string
}

func commands() map[string]command {
	return map[string]command{
		"run":      {cmdRun, "simulate a scenario and post its events (default: built-in scenario against an embedded mock)"},
		"replay":   {cmdReplay, "replay a capture file with its original timing"},
		"serve":    {cmdServe, "run the mock Events API"},
		"proxy":    {cmdProxy, "recording reverse proxy in front of an Events API"},
		"validate": {cmdValidate, "check a scenario and print its plan"},
		"report":   {cmdReport, "re-render HTML / JUnit / text from a saved run.json"},
		"compare":  {cmdCompare, "regression check between two runs"},
		"merge":    {cmdMerge, "merge shard results exactly"},
	}
}

var commandOrder = []string{"run", "replay", "serve", "proxy", "validate", "report", "compare", "merge"}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: loadgen COMMAND [flags] [args]\n\ncommands:")
	cmds := commands()
	for _, name := range commandOrder {
		fmt.Fprintf(w, "  %-9s %s\n", name, cmds[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'loadgen COMMAND -h' for a command's flags.")
}

// run is the whole program minus process concerns (signals, exit), so tests
// can drive it end to end.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "loadgen: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd.fn(ctx, args[1:], stdout, stderr)
}
