package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadgen/loadgen/report"
)

func TestJSONRoundTrip(t *testing.T) {
	r := synthRun(t, synthOpts{seed: 2, thresholds: goldenThresholds})
	var a, b bytes.Buffer
	if err := report.WriteJSON(&a, r); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&b, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("run.json changed after a read/write round trip")
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, mention string
	}{
		{"empty", "", "unexpected end"},
		{"syntax", "{\n  \"schemaVersion\": 1,\n  \"run\": {,\n}", "line 3, column"},
		{"no version", `{"run": {}}`, "no schemaVersion"},
		{"newer", `{"schemaVersion": 2}`, "schemaVersion 2 is newer"},
		{"zero", `{"schemaVersion": 0}`, "schemaVersion 0"},
		{"wrong type", "{\"schemaVersion\": 1,\n\"totals\": {\"events\": {\"generated\": \"many\"}}}", "line 2"},
		{"bad histogram", `{"schemaVersion": 1, "endpoints": {"presence": {"histograms": {"latency": "!!"}}}}`, "endpoints.presence.histograms.latency"},
		{"null endpoint", `{"schemaVersion": 1, "endpoints": {"presence": null}}`, "endpoints.presence: null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.ReadJSON(strings.NewReader(tc.in))
			if !errors.Is(err, report.ErrSchema) {
				t.Fatalf("got %v, want ErrSchema", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestReadFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shard-3.json")
	if err := os.WriteFile(path, []byte(`{"schemaVersion": 9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := report.ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, report.ErrSchema) {
		t.Fatalf("got %v, want an ErrSchema naming %s", err, path)
	}
	if _, err := report.ReadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("got %v, want an error naming missing.json", err)
	}
}

func TestWriteFiles(t *testing.T) {
	r := synthRun(t, synthOpts{seed: 2, thresholds: goldenThresholds})
	dir := filepath.Join(t.TempDir(), "out")
	if err := report.WriteFiles(dir, r, report.FileOptions{JUnit: true, Text: true}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "junit.xml report.html run.json summary.txt"; got != want {
		t.Errorf("files %q, want %q (no temporary files left)", got, want)
	}
	back, err := report.ReadFile(filepath.Join(dir, report.FileRun))
	if err != nil || back.Totals != r.Totals {
		t.Errorf("run.json read back: %v", err)
	}
}

func TestJUnit(t *testing.T) {
	r := synthRun(t, synthOpts{seed: 2, thresholds: goldenThresholds})
	var b bytes.Buffer
	if err := report.WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 2 || len(doc.Suites[0].Cases) != len(goldenThresholds) || len(doc.Suites[1].Cases) != 3 {
		t.Fatalf("suites %+v: want thresholds and 3 endpoints", doc.Suites)
	}
	failed := 0
	for i, c := range doc.Suites[0].Cases {
		if c.Name != goldenThresholds[i] {
			t.Errorf("case %d %q, want %q", i, c.Name, goldenThresholds[i])
		}
		if ok := r.Thresholds[i].OK; ok != (c.Failure == nil) {
			t.Errorf("case %q failure %v, threshold ok %v", c.Name, c.Failure, ok)
		}
		if c.Failure != nil {
			failed++
			if !strings.Contains(c.Failure.Message, "actual") || !strings.Contains(c.Failure.Message, "limit") {
				t.Errorf("failure message %q lacks actual/limit", c.Failure.Message)
			}
		}
	}
	if doc.Tests != len(goldenThresholds)+3 || doc.Failures != failed+3 {
		t.Errorf("tests %d failures %d, want %d and %d", doc.Tests, doc.Failures, len(goldenThresholds)+3, failed+3)
	}
}

func FuzzReadJSON(f *testing.F) {
	for _, name := range []string{"TestGolden.golden.json", "fuzz/run-minimal.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion":1,"endpoints":{"x":{"histograms":{"latency":""}}},"timeline":[{"second":3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, report.ErrSchema) {
				t.Fatalf("error %v does not wrap ErrSchema", err)
			}
			return
		}
		// Whatever reads must render and round-trip.
		var a, b bytes.Buffer
		if err := report.WriteJSON(&a, r); err != nil {
			t.Fatal(err)
		}
		for _, w := range []func(*bytes.Buffer, *report.Run) error{
			func(b *bytes.Buffer, r *report.Run) error { return report.WriteText(b, r) },
			func(b *bytes.Buffer, r *report.Run) error { return report.WriteJUnit(b, r) },
			func(b *bytes.Buffer, r *report.Run) error { return report.WriteHTML(b, r) },
		} {
			var out bytes.Buffer
			if err := w(&out, r); err != nil {
				t.Fatalf("render: %v", err)
			}
		}
		back, err := report.ReadJSON(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if err := report.WriteJSON(&b, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("round trip changed run.json")
		}
	})
}
