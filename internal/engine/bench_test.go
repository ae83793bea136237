package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadgen/loadgen/internal/events"
	"github.com/loadgen/loadgen/report"
)

// benchEvents makes n conversation events of about 225 bytes each, so 100
// of them make the ~22.5 KB body of the design's reference figures.
func benchEvents(n, keys int) []events.Timed {
	evs := genEvents(n, keys, []events.Type{events.TypeUserEstablished}, 0, 150)
	return evs
}

// sinkServer is the benchmark target: it reads the body and answers 202 {}.
func sinkServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "{}")
	}))
	b.Cleanup(srv.Close)
	return srv
}

// cycleSource yields n events, cycling through prebuilt ones (their ids
// repeat, which the benchmark sink does not mind) so that a long benchmark
// does not hold gigabytes of events.
type cycleSource struct {
	evs  []events.Timed
	n, i int
	step time.Duration // At of event i is i·step
}

func (s *cycleSource) Next(context.Context) (events.Timed, error) {
	if s.i >= s.n {
		return events.Timed{}, io.EOF
	}
	ev := s.evs[s.i%len(s.evs)]
	ev.At = time.Duration(s.i) * s.step
	s.i++
	return ev, nil
}

// countSink counts outcomes and nothing else, as cheaply as possible.
type countSink struct {
	gen, accepted, other atomic.Int64
}

func (s *countSink) Generated(*events.Timed) { s.gen.Add(1) }
func (s *countSink) Add(r *report.Result) {
	var a, o int64
	for i := range r.Events {
		if r.Events[i].Outcome == report.Accepted {
			a++
		} else {
			o++
		}
	}
	s.accepted.Add(a)
	s.other.Add(o)
}

func BenchmarkEncodeBatch(b *testing.B) {
	evs := genEvents(100, 37, convTypes, 0, 150)
	bt := &batch{}
	bt.reset()
	b.ReportAllocs()
	b.SetBytes(int64(len(events.AppendBatch(nil, events.Conversations, eventsOf(evs)))))
	for b.Loop() {
		bt.reset()
		for i := range evs {
			if bt.fits(&evs[i].Event, 100, events.MaxRequestBytes) {
				bt.add(&evs[i].Event)
			}
		}
		bt.encode()
	}
}

func eventsOf(ts []events.Timed) []events.Event {
	out := make([]events.Event, len(ts))
	for i := range ts {
		out[i] = ts[i].Event
	}
	return out
}

// BenchmarkRoundTrip is one attempt of one 100-event batch through the
// lane's client path against a local sink: request, response, parsing,
// Result.
func BenchmarkRoundTrip(b *testing.B) {
	srv := sinkServer(b)
	cfg, _ := Config{Target: srv.URL}.withDefaults()
	r := &run{cfg: cfg, sink: &countSink{}, hc: newHTTPClient(4)}
	r.rt = r.hc.Transport
	b.Cleanup(r.hc.CloseIdleConnections)
	r.send, r.sendCancel = context.WithCancel(context.Background())
	b.Cleanup(r.sendCancel)
	r.stop = r.send
	for _, ep := range events.Endpoints() {
		r.urls[ep], _ = urlParse(srv.URL + ep.Path())
	}
	l := newLane(r, events.Conversations, 0)
	bt := &batch{ep: events.Conversations}
	bt.reset()
	for _, ev := range benchEvents(100, 10) {
		bt.add(&ev.Event)
	}
	bt.encode()
	b.ReportAllocs()
	b.SetBytes(int64(len(bt.body)))
	for b.Loop() {
		if v := l.attempt(bt, 1); v.kind != report.ErrNone {
			b.Fatal(l.res.Error)
		}
		r.emit(&l.res)
	}
}

// BenchmarkReplayFullSpeed replays prebuilt events with --speed max
// through the whole engine (batching, pacing, lanes, ledger) and reports
// requests/s and events/s; BenchmarkBareNetHTTP posts the same bodies from
// a plain net/http loop to the same sink, for the ratio.
func BenchmarkReplayFullSpeed(b *testing.B) {
	// cold: 100,000 distinct events (22 MB, beyond the CPU caches, as a
	// replayed capture is); warm: 2,000 (450 KB), closer to the single
	// static body of vegeta and the bare loop.
	for _, tc := range []struct {
		name string
		n    int
	}{{"cold", 100_000}, {"warm", 2_000}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := sinkServer(b)
			src := &cycleSource{evs: benchEvents(tc.n, 1000), n: 100 * b.N}
			sink := &countSink{}
			cfg := Config{Target: srv.URL, Unpaced: true}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			sum, err := Run(context.Background(), cfg, src, sink)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if sum.Accepted != uint64(src.n) {
				b.Fatalf("accepted %d of %d", sum.Accepted, src.n)
			}
			b.ReportMetric(float64(sum.Requests)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(sum.Accepted)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(sum.Accepted)/float64(sum.Requests), "events/req")
		})
	}
}

func BenchmarkBareNetHTTP(b *testing.B) {
	srv := sinkServer(b)
	bt := &batch{ep: events.Conversations}
	bt.reset()
	for _, ev := range benchEvents(100, 10) {
		bt.add(&ev.Event)
	}
	bt.encode()
	body := bt.body
	url := srv.URL + events.Conversations.Path()
	const workers = 16
	hc := newHTTPClient(workers)
	b.Cleanup(hc.CloseIdleConnections)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				req, _ := http.NewRequest(http.MethodPost, url, bytesReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(100*b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkPacedFixedRate runs 2,000 requests/s of 100-event batches for
// 3 s per iteration (use -benchtime=1x) and reports the achieved rate and
// schedule lag percentiles.
func BenchmarkPacedFixedRate(b *testing.B) {
	srv := sinkServer(b)
	const rate, seconds = 2000, 3
	evs := benchEvents(16000, 1600)
	step := time.Second / time.Duration(rate*100)
	for b.Loop() {
		sink := &lagSink{}
		src := &cycleSource{evs: evs, n: rate * 100 * seconds, step: step}
		sum, err := Run(context.Background(), Config{Target: srv.URL}, src, sink)
		if err != nil {
			b.Fatal(err)
		}
		// Rate over the full batches; the final flush sends partial ones.
		first, last := sink.minIntended, sink.maxSent
		achieved := float64(sink.full-1) / last.Sub(first).Seconds()
		slices.Sort(sink.lags)
		p := func(q float64) time.Duration { return sink.lags[int(q*float64(len(sink.lags)-1))] }
		b.ReportMetric(achieved, "req/s")
		b.ReportMetric(100*(achieved-rate)/rate, "rate-err-%")
		b.ReportMetric(float64(p(0.5).Microseconds()), "lag-p50-µs")
		b.ReportMetric(float64(p(0.9).Microseconds()), "lag-p90-µs")
		b.ReportMetric(float64(p(0.99).Microseconds()), "lag-p99-µs")
		b.ReportMetric(float64(sum.Accepted)/float64(sum.Requests), "events/req")
	}
}

// lagSink records schedule lag per attempt (benchmark only).
type lagSink struct {
	mu                   sync.Mutex
	lags                 []time.Duration
	minIntended, maxSent time.Time
	full                 int
}

func (s *lagSink) Generated(*events.Timed) {}
func (s *lagSink) Add(r *report.Result) {
	if r.Attempt == 0 || len(r.Events) < 100 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.full++
	s.lags = append(s.lags, r.Sent.Sub(r.Intended))
	if s.minIntended.IsZero() || r.Intended.Before(s.minIntended) {
		s.minIntended = r.Intended
	}
	if r.Sent.After(s.maxSent) {
		s.maxSent = r.Sent
	}
}

var _ = fmt.Sprint
