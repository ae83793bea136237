package scenarios

import (
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"testing"
	"time"
)

func TestDistSample(t *testing.T) {
	tests := []struct {
		name     string
		d        Dist
		wantMean time.Duration
		lo, hi   time.Duration // every sample within
	}{
		{"fixed", FixedDist(7 * time.Second), 7 * time.Second, 7 * time.Second, 7 * time.Second},
		{"uniform", Dist{Kind: Uniform, Min: 10 * time.Second, Max: 30 * time.Second}, 20 * time.Second, 10 * time.Second, 30 * time.Second},
		{"exponential", Dist{Kind: Exponential, Mean: time.Minute}, time.Minute, 0, math.MaxInt64},
		{"lognormal", Dist{Kind: Lognormal, Mean: 4 * time.Minute, Stddev: 2 * time.Minute}, 4 * time.Minute, 1, math.MaxInt64},
		{"capped exponential", Dist{Kind: Exponential, Mean: time.Minute, Max: 2 * time.Minute}, 52 * time.Second, 0, 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			const n = 20000
			var sum float64
			for range n {
				v := tc.d.Sample(r)
				if v < tc.lo || v > tc.hi {
					t.Fatalf("sample %s outside [%s, %s]", v, tc.lo, tc.hi)
				}
				sum += float64(v)
			}
			mean := time.Duration(sum / n)
			if diff := math.Abs(float64(mean - tc.wantMean)); diff > 0.03*float64(tc.wantMean) {
				t.Errorf("mean %s, want %s ± 3%%", mean, tc.wantMean)
			}
			// CDF agrees with the samples at the mean.
			r = rand.New(rand.NewPCG(3, 4))
			below := 0
			for range n {
				if tc.d.Sample(r) <= tc.wantMean {
					below++
				}
			}
			if got, want := float64(below)/n, tc.d.CDF(tc.wantMean); math.Abs(got-want) > 0.02 {
				t.Errorf("%.3f of samples are at most the mean, CDF says %.3f", got, want)
			}
			if tc.d.Max == 0 && tc.d.MeanValue() != tc.wantMean {
				t.Errorf("MeanValue %s, want %s", tc.d.MeanValue(), tc.wantMean)
			}
		})
	}
}

func TestGeneratedID(t *testing.T) {
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, kind := range []IDKind{KindSource, KindAgent, KindQueue, KindSkill} {
		for i := range 1000 {
			id := GeneratedID(42, kind, i)
			if !uuidV4.MatchString(id) {
				t.Fatalf("GeneratedID = %q, not a UUIDv4", id)
			}
			if seen[id] {
				t.Fatalf("GeneratedID repeats %s", id)
			}
			seen[id] = true
		}
	}
	if GeneratedID(42, KindAgent, 3) != GeneratedID(42, KindAgent, 3) {
		t.Error("GeneratedID is not deterministic")
	}
	if GeneratedID(42, KindAgent, 3) == GeneratedID(43, KindAgent, 3) {
		t.Error("GeneratedID ignores the seed")
	}
	if got := string(AppendUUID(nil, 0, 0)); got != "00000000-0000-4000-8000-000000000000" {
		t.Errorf("AppendUUID(0, 0) = %s", got)
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("reference.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for range b.N {
		if _, err := Parse("reference.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	s := Default()
	b.ReportAllocs()
	for range b.N {
		_ = s.Plan()
	}
}
