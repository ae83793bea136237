package main

import (
	"bytes"
	"context"
	"flag"
	"github.com/loadgen/loadgen/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestValidateGolden pins the plan of a shipped scenario.
func TestValidateGolden(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"validate", "../../scenarios/all-events.yaml"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr: %s", code, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr not empty: %q", errb.String())
	}
	golden.Check(t, filepath.Join("testdata", "TestValidateGolden.golden"), out.Bytes(), *update)
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", "name: bad\nduration: 10s\nagnets: {count: 3}\n")
	negative := write("negative.yaml", "name: neg\nduration: 10s\narrivals:\n  rate: -1\n")
	heavy := write("heavy.yaml", "name: heavy\nduration: 1m\nagents: {count: 500}\narrivals: {rate: 40}\nbatching: {linger: 0s}\n")
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring, "" to want it empty
		stderr     string // exact first line when it starts with the temp dir, else a substring
		exactError bool
	}{
		{"built-in default", []string{"validate"}, exitOK, "scenario default: 30s, 30 agents", "", false},
		{"unknown key", []string{"validate", bad}, exitUsage, "", bad + `:3:1: agnets: unknown key "agnets"`, false},
		{"negative rate", []string{"validate", negative}, exitUsage, "", negative + ":4:9: arrivals.rate: negative rate -1\n", true},
		{"missing file", []string{"validate", filepath.Join(dir, "nope.yaml")}, exitUsage, "", "no such file", false},
		{"two files", []string{"validate", bad, negative}, exitUsage, "", "want one scenario file", false},
		{"bad flag", []string{"validate", "-nope"}, exitUsage, "", "flag provided but not defined", false},
		{"help", []string{"validate", "-h"}, exitOK, "", "usage: loadgen validate", false},
		{"limits cannot carry it", []string{"validate", heavy}, exitOK, "above the platform's 300 requests/min", "", false},
		{"duration override", []string{"validate", "-duration", "2m", "../../scenarios/default.yaml"}, exitOK, "scenario default: 2m0s", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			switch {
			case tc.stdout == "" && out.Len() != 0:
				t.Errorf("stdout not empty: %q", out.String())
			case !strings.Contains(out.String(), tc.stdout):
				t.Errorf("stdout %q does not contain %q", out.String(), tc.stdout)
			}
			switch {
			case tc.exactError && errb.String() != tc.stderr:
				t.Errorf("stderr = %q, want %q", errb.String(), tc.stderr)
			case tc.stderr == "" && errb.Len() != 0:
				t.Errorf("stderr not empty: %q", errb.String())
			case !strings.Contains(errb.String(), tc.stderr):
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.stderr)
			}
		})
	}
}
