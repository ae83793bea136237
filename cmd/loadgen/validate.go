package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/loadgen/loadgen/scenarios"
)

// cmdValidate checks a scenario and prints its plan: expected events/s,
// requests/s and bytes/s per endpoint and per event type, and whether the
// platform limit and the scenario's limits can carry it. A bad scenario
// exits 2 with "file:line:col: path: message" on stderr.
func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 0, "plan for this run length instead of the scenario's `D`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen validate [flags] [SCENARIO.yaml]\n\n"+
			"Checks a scenario (default: the built-in one) and prints its plan.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "loadgen validate: want one scenario file, got %d arguments\n", fs.NArg())
		fs.Usage()
		return exitUsage
	}
	if *duration < 0 {
		fmt.Fprintf(stderr, "loadgen validate: -duration must not be negative, got %s\n", *duration)
		return exitUsage
	}
	var s *scenarios.Scenario
	if fs.NArg() == 0 {
		s = scenarios.Default()
	} else {
		var err error
		if s, err = scenarios.Load(fs.Arg(0)); err != nil {
			var se *scenarios.Error
			if errors.As(err, &se) {
				fmt.Fprintln(stderr, se.Error())
			} else {
				fmt.Fprintf(stderr, "loadgen validate: %v\n", err)
			}
			return exitUsage
		}
	}
	if *duration > 0 {
		s.Duration = *duration
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "loadgen validate: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s: ok, scenario hash %s, seed %d, time scale %gx\n", s.File, s.Hash(), s.Seed, s.TimeScale)
	fmt.Fprintf(stdout, "batching: %d events, %d bytes, linger %s; limits: %s\n\n",
		s.Batching.MaxEvents, s.Batching.MaxBytes, s.Batching.Linger, describeLimits(s.Limits))
	if err := scenarios.WritePlan(stdout, s.Plan()); err != nil {
		fmt.Fprintf(stderr, "loadgen validate: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func describeLimits(l scenarios.Limits) string {
	rate := func(v float64) string {
		if v == 0 {
			return "unlimited"
		}
		return fmt.Sprintf("%g/s", v)
	}
	return fmt.Sprintf("requests %s (conversations %s, presence %s, routingstatus %s), events %s, in flight %d",
		rate(l.RequestsPerSecond), rate(l.Endpoint[0]), rate(l.Endpoint[1]), rate(l.Endpoint[2]),
		rate(l.EventsPerSecond), l.InFlight)
}
