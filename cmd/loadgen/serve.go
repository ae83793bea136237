package main

import (
	"context"
	"fmt"
	"io"
)

// cmdServe is a placeholder until the command is wired.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadgen serve: not implemented yet")
	return exitFailed
}
