package main

import (
	"context"
	"fmt"
	"io"
)

// cmdReport is a placeholder until the command is wired.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadgen report: not implemented yet")
	return exitFailed
}

// cmdCompare is a placeholder until the command is wired.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadgen compare: not implemented yet")
	return exitFailed
}

// cmdMerge is a placeholder until the command is wired.
func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadgen merge: not implemented yet")
	return exitFailed
}
