package main

import (
	"context"
	"fmt"
	"io"
)

// cmdValidate is a placeholder until the command is wired.
func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadgen validate: not implemented yet")
	return exitFailed
}
