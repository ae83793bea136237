package engine

import "time"

// fineWait is the last stretch before a due time that is slept precisely.
// Go timers wake up to about a millisecond late when the process is idle
// (the runtime's netpoller sleeps in whole milliseconds), which would show
// as schedule lag at every paced request; so a wait arms a timer for all
// but the last fineWait and sleeps the rest with a bounded fine sleep.
const fineWait = 2 * time.Millisecond

// waitUntil blocks until t, returning false as soon as stop is closed
// (within fineWait in the worst case). timer must be stopped or drained;
// it is left so.
func waitUntil(t time.Time, timer *time.Timer, stop <-chan struct{}) bool {
	for {
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		if d > fineWait || !canSleepFine {
			timer.Reset(max(d-fineWait, min(d, time.Millisecond)))
			select {
			case <-timer.C:
				continue
			case <-stop:
				timer.Stop()
				return false
			}
		}
		select {
		case <-stop:
			return false
		default:
		}
		sleepFine(d)
	}
}
