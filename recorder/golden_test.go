package recorder

import (
	"bytes"
	"flag"
	goldenfile "github.com/loadgen/loadgen/internal/golden"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<name>, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

func TestCaptureGolden(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{Created: created, Source: "run", Scenario: "sample", ScenarioHash: "sha256:00", Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range sampleEvents() {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	golden(t, "TestCaptureGolden.golden.ndjson", b.Bytes())
}
