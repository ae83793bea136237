package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShippedParse proves every scenario shipped in the directory parses,
// both from disk and embedded.
func TestShippedParse(t *testing.T) {
	names, err := filepath.Glob("*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no shipped scenarios: %v", err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(name, data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if s.Name == "" || s.Duration <= 0 {
				t.Errorf("got name %q duration %s, want both set", s.Name, s.Duration)
			}
			if _, err := Embedded(name); err != nil {
				t.Errorf("Embedded: %v", err)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	s := Default()
	if s.Name != "default" || s.File != DefaultFile {
		t.Fatalf("got name %q file %q, want default from %s", s.Name, s.File, DefaultFile)
	}
	if s.Duration.Seconds() != 30 {
		t.Errorf("got duration %s, want 30s", s.Duration)
	}
	p := s.Plan()
	if len(p.Warnings) != 0 {
		t.Errorf("default plan has warnings: %q", p.Warnings)
	}
	for _, ep := range p.Endpoints {
		if ep.Events == 0 {
			t.Errorf("default plan leaves an endpoint without events: %+v", p.Endpoints)
		}
	}
	if p.Total.PeakRequestsPerSecond > PlatformRequestsPerSecond {
		t.Errorf("default needs %.2f requests/s, above the platform's %.0f", p.Total.PeakRequestsPerSecond, PlatformRequestsPerSecond)
	}
}
