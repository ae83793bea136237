package report

import (
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines shard runs into one: ledgers, counters and status codes
// add up; HDR histograms merge exactly, so percentiles of the result are
// those of the whole; the timeline is aligned on wall-clock seconds (its
// per-second p50/p99 are the maximum over the shards, an upper bound, as
// per-second histograms are not kept); thresholds found in the inputs are
// evaluated again on the merged result. Errors wrap ErrMerge or ErrSchema.
func Merge(runs []*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w: no runs", ErrMerge)
	}
	for i, r := range runs {
		if r == nil {
			return nil, fmt.Errorf("%w: run %d is nil", ErrMerge, i)
		}
		if r.SchemaVersion > SchemaVersion {
			return nil, fmt.Errorf("%w: run %d: schemaVersion %d is newer than %d", ErrSchema, i, r.SchemaVersion, SchemaVersion)
		}
	}
	first := runs[0]
	m := &Run{
		SchemaVersion: SchemaVersion,
		Run: Info{Scenario: first.Run.Scenario, ScenarioHash: first.Run.ScenarioHash, Seed: first.Run.Seed,
			Target: first.Run.Target, StartedAt: first.Run.StartedAt, EndedAt: first.Run.EndedAt,
			StopReason: StopCompleted, Valid: true, Merged: len(runs)},
		Endpoints:  map[string]*EndpointStats{},
		EventTypes: map[string]*Ledger{},
	}
	warn := func(format string, args ...any) {
		m.Warnings = appendUnique(m.Warnings, fmt.Sprintf(format, args...))
	}
	shards := map[int]int{}
	satLimit := 0.0
	var exprs []string
	hists := map[string][len(histNames)]*hdr.Histogram{}
	groups := map[[2]string]*FailureGroup{}
	for i, r := range runs {
		in := r.Run
		if in.Scenario != first.Run.Scenario || in.ScenarioHash != first.Run.ScenarioHash {
			warn("runs differ in scenario: %q (%s) and %q (%s)", first.Run.Scenario, first.Run.ScenarioHash, in.Scenario, in.ScenarioHash)
		}
		if in.Seed != first.Run.Seed {
			warn("runs differ in seed: %d and %d", first.Run.Seed, in.Seed)
		}
		if in.Target != first.Run.Target {
			warn("runs differ in target: %s and %s", first.Run.Target, in.Target)
		}
		if j, dup := shards[in.Shard.Index]; dup && in.Shard.Count > 1 {
			warn("runs %d and %d are both shard %d: counts are doubled", j, i, in.Shard.Index)
		}
		shards[in.Shard.Index] = i
		if in.Shard.Count > m.Run.Shard.Count {
			m.Run.Shard.Count = in.Shard.Count
		}
		if in.StartedAt.Before(m.Run.StartedAt) {
			m.Run.StartedAt = in.StartedAt
		}
		if in.EndedAt.After(m.Run.EndedAt) {
			m.Run.EndedAt = in.EndedAt
		}
		m.Run.StopReason = worseStop(m.Run.StopReason, in.StopReason)
		for _, why := range in.InvalidReasons {
			m.invalidate(fmt.Sprintf("shard %d: %s", in.Shard.Index, why))
		}
		if !in.Valid && len(in.InvalidReasons) == 0 {
			m.invalidate(fmt.Sprintf("shard %d: invalid", in.Shard.Index))
		}
		for _, w := range r.Warnings {
			warn("shard %d: %s", in.Shard.Index, w)
		}
		for name, st := range r.Endpoints {
			ms := m.Endpoints[name]
			if ms == nil {
				ms = &EndpointStats{StatusCodes: map[string]int64{}}
				m.Endpoints[name] = ms
				var hs [len(histNames)]*hdr.Histogram
				for k := range hs {
					hs[k] = newHist()
				}
				hists[name] = hs
			}
			ms.Events.add(st.Events)
			ms.Requests += st.Requests
			ms.OK += st.OK
			ms.Throttled += st.Throttled
			ms.Errors += st.Errors
			ms.Retries += st.Retries
			ms.BytesOut += st.BytesOut
			for k, v := range st.StatusCodes {
				ms.StatusCodes[k] += v
			}
			for k, hn := range histNames {
				h, err := decodeHist(st.Histograms[hn])
				if err != nil {
					return nil, fmt.Errorf("run %d: endpoints.%s.histograms.%s: %w", i, name, hn, err)
				}
				if dropped := hists[name][k].Merge(h); dropped > 0 {
					warn("endpoints.%s.histograms.%s: %d values out of range were dropped", name, hn, dropped)
				}
			}
		}
		for name, l := range r.EventTypes {
			ml := m.EventTypes[name]
			if ml == nil {
				ml = &Ledger{}
				m.EventTypes[name] = ml
			}
			ml.add(*l)
		}
		m.Failures.Total += r.Failures.Total
		for _, g := range r.Failures.ByReason {
			key := [2]string{g.Endpoint, g.Reason}
			mg := groups[key]
			if mg == nil {
				mg = &FailureGroup{Endpoint: g.Endpoint, Reason: g.Reason, Outcome: g.Outcome}
				groups[key] = mg
			}
			mg.Count += g.Count
			mg.ExampleEventIDs = appendExamples(mg.ExampleEventIDs, g.ExampleEventIDs)
		}
		m.Generator.CPUSeconds += r.Generator.CPUSeconds
		m.Generator.MaxRSSBytes = max(m.Generator.MaxRSSBytes, r.Generator.MaxRSSBytes)
		m.Generator.Saturated = m.Generator.Saturated || r.Generator.Saturated
		satLimit = max(satLimit, r.Generator.SaturationLimit)
		for _, t := range r.Thresholds {
			exprs = appendUnique(exprs, t.Expr)
		}
	}
	m.Failures.ByReason = sortGroups(groups)
	for name, st := range m.Endpoints {
		if err := st.setHistograms(hists[name]); err != nil {
			return nil, err
		}
	}
	m.recomputeTotals(hists)
	m.Timeline = mergeTimelines(runs, m.Run.StartedAt)
	if satLimit <= 0 {
		satLimit = float64(DefaultSaturationLag) / float64(time.Millisecond)
	}
	wasSaturated := m.Generator.Saturated
	m.finishGenerator(time.Duration(satLimit * float64(time.Millisecond)))
	if wasSaturated && !m.Generator.Saturated {
		// A shard that was saturated stays a saturated shard even when the
		// merged p99 hides it.
		m.Generator.Saturated = true
	}
	if err := m.checkLedger(); err != nil {
		warn("%v", err)
	}
	ths, err := ParseThresholds(exprs)
	if err != nil {
		return nil, fmt.Errorf("%w: thresholds in the inputs: %w", ErrMerge, err)
	}
	m.Evaluate(ths)
	return m, nil
}

// mergeTimelines adds the runs' timelines aligned on wall-clock seconds
// from start.
func mergeTimelines(runs []*Run, start time.Time) []Second {
	var out []Second
	for _, r := range runs {
		off := int(r.Run.StartedAt.Sub(start) / time.Second)
		for _, s := range r.Timeline {
			at := s.Second + off
			if at < 0 || at >= maxTimelineSeconds {
				continue
			}
			for len(out) <= at {
				out = append(out, Second{Second: len(out)})
			}
			o := &out[at]
			o.Requests += s.Requests
			o.Events += s.Events
			o.Errors += s.Errors
			o.Throttled += s.Throttled
			o.Retries += s.Retries
			o.P50 = max(o.P50, s.P50)
			o.P99 = max(o.P99, s.P99)
			o.LagMax = max(o.LagMax, s.LagMax)
			for k, v := range s.StatusCodes {
				if o.StatusCodes == nil {
					o.StatusCodes = map[string]int64{}
				}
				o.StatusCodes[k] += v
			}
		}
	}
	return out
}

// worseStop returns the more severe of two stop reasons.
func worseStop(a, b StopReason) StopReason {
	rank := func(s StopReason) int {
		switch s {
		case StopError:
			return 3
		case StopThreshold:
			return 2
		case StopInterrupted:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// ThresholdSet parses the expressions of r.Thresholds again, so that they
// can be re-evaluated (with more added) after a merge or edit.
func (r *Run) ThresholdSet() ([]Threshold, error) {
	exprs := make([]string, len(r.Thresholds))
	for i, t := range r.Thresholds {
		exprs[i] = t.Expr
	}
	return ParseThresholds(exprs)
}
