package report_test

import (
	"bytes"
	"flag"
	goldenfile "github.com/loadgen/loadgen/internal/golden"
	"path/filepath"
	"testing"

	"github.com/loadgen/loadgen/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/<name>, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

func TestGolden(t *testing.T) {
	r := synthRun(t, synthOpts{seed: 1, thresholds: goldenThresholds})
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"TestGolden.golden.json", func(b *bytes.Buffer) error { return report.WriteJSON(b, r) }},
		{"TestGolden.golden.txt", func(b *bytes.Buffer) error { return report.WriteText(b, r) }},
		{"TestGolden.golden.html", func(b *bytes.Buffer) error { return report.WriteHTML(b, r) }},
		{"TestGolden.golden.xml", func(b *bytes.Buffer) error { return report.WriteJUnit(b, r) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

// TestGoldenFailures pins failures.ndjson for the synthetic run.
func TestGoldenFailures(t *testing.T) {
	var buf []byte
	c, meta := synthCollector(t, synthOpts{seed: 1}, &buf)
	if _, err := c.Finish(meta); err != nil {
		t.Fatal(err)
	}
	golden(t, "TestGoldenFailures.golden.ndjson", buf)
}
