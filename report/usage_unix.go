//go:build unix

package report

import (
	"runtime"
	"syscall"
	"time"
)

// ProcessUsage returns the CPU time and peak resident memory of the
// current process, for Meta.Generator. It is safe for concurrent use.
func ProcessUsage() (cpuSeconds float64, maxRSSBytes int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		rss *= 1024 // Linux and the BSDs report kilobytes, macOS bytes
	}
	return cpu.Seconds(), rss
}
