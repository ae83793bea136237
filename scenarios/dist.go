package scenarios

import (
	"math"
	"math/rand/v2"
	"time"
)

// DistKind is the family of a duration distribution.
type DistKind uint8

// Distribution families.
const (
	Fixed       DistKind = iota // always Value
	Uniform                     // uniform in [Min, Max]
	Exponential                 // exponential with mean Mean
	Lognormal                   // lognormal with mean Mean and standard deviation Stddev
)

var distNames = [...]string{"fixed", "uniform", "exponential", "lognormal"}

// String returns the family's YAML name.
func (k DistKind) String() string {
	if int(k) < len(distNames) {
		return distNames[k]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler (used by Hash).
func (k DistKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Dist is a distribution of durations. In YAML it is either a duration
// ("30s", fixed) or a mapping such as {uniform: [5s, 20s]},
// {exponential: 3m} or {lognormal: {mean: 4m, stddev: 2m}}; any family
// takes an optional max that caps the samples.
type Dist struct {
	Kind     DistKind
	Value    time.Duration `json:",omitempty"` // Fixed
	Min, Max time.Duration `json:",omitempty"` // Uniform; Max also caps the other families when > 0
	Mean     time.Duration `json:",omitempty"` // Exponential, Lognormal
	Stddev   time.Duration `json:",omitempty"` // Lognormal
}

// FixedDist returns the distribution that always gives d.
func FixedDist(d time.Duration) Dist { return Dist{Kind: Fixed, Value: d} }

// MeanValue returns the distribution's mean (ignoring a cap).
func (d Dist) MeanValue() time.Duration {
	switch d.Kind {
	case Uniform:
		return (d.Min + d.Max) / 2
	case Exponential, Lognormal:
		return d.Mean
	}
	return d.Value
}

// Sample draws one duration using r. It is deterministic for a given r
// state and never negative.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	var v float64
	switch d.Kind {
	case Fixed:
		return d.Value
	case Uniform:
		span := int64(d.Max - d.Min)
		if span == math.MaxInt64 { // span+1 would overflow
			return d.Min + time.Duration(r.Int64N(span))
		}
		return d.Min + time.Duration(r.Int64N(span+1))
	case Exponential:
		v = r.ExpFloat64() * float64(d.Mean)
	case Lognormal:
		m, s := float64(d.Mean), float64(d.Stddev)
		sigma2 := math.Log1p(s * s / (m * m))
		mu := math.Log(m) - sigma2/2
		v = math.Exp(mu + math.Sqrt(sigma2)*r.NormFloat64())
	}
	if d.Max > 0 && v > float64(d.Max) {
		return d.Max
	}
	if v >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(v)
}

// CDF returns the probability that a sample is at most t.
func (d Dist) CDF(t time.Duration) float64 {
	if d.Max > 0 && t >= d.Max {
		return 1
	}
	x := float64(t)
	switch d.Kind {
	case Uniform:
		if d.Max == d.Min {
			return step(t >= d.Min)
		}
		return math.Max(0, math.Min(1, (x-float64(d.Min))/float64(d.Max-d.Min)))
	case Exponential:
		return math.Max(0, 1-math.Exp(-x/float64(d.Mean)))
	case Lognormal:
		if x <= 0 {
			return 0
		}
		m, s := float64(d.Mean), float64(d.Stddev)
		sigma2 := math.Log1p(s * s / (m * m))
		mu := math.Log(m) - sigma2/2
		return 0.5 * math.Erfc(-(math.Log(x)-mu)/math.Sqrt(2*sigma2))
	}
	return step(t >= d.Value)
}

func step(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
