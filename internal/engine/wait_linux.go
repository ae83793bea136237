package engine

import (
	"syscall"
	"time"
)

// canSleepFine: nanosleep wakes within about 100 µs here.
const canSleepFine = true

// sleepFine sleeps d (at most fineWait) in nanosleep. The goroutine's
// thread blocks in a system call, so the runtime hands its P to others.
func sleepFine(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(min(d, fineWait)))
	syscall.Nanosleep(&ts, nil)
}
