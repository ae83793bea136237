package recorder

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (run go test -update if the change is intended)\n got:\n%s\nwant:\n%s", path, got, want)
	}
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
