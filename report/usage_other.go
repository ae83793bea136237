//go:build !unix

package report

// ProcessUsage returns zeros where the platform offers no getrusage.
func ProcessUsage() (cpuSeconds float64, maxRSSBytes int64) { return 0, 0 }
