package main

import (
	"context"
	"fmt"
	"io"
)

// cmdProxy is a placeholder until the command is wired.
func cmdProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadgen proxy: not implemented yet")
	return exitFailed
}
