//go:build !linux

package engine

import "time"

// canSleepFine: elsewhere waits use timers all the way.
const canSleepFine = false

func sleepFine(time.Duration) {}
