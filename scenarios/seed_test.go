package scenarios

import "testing"

func TestSetSeedDerivesGeneratedIDs(t *testing.T) {
	s := Default()
	old := s.Source.SourceID
	s.SetSeed(s.Seed + 1)
	if s.Source.SourceID == old || s.Source.SourceID != GeneratedID(s.Seed, KindSource, 0) {
		t.Errorf("generated sourceId %s not derived from the new seed", s.Source.SourceID)
	}
	given := "e8b1f4a2-5c7d-4e3b-9a60-3c2d7f9e1b08"
	s2, err := Parse("given.yaml", []byte("name: g\nduration: 5s\nsource: {sourceId: "+given+"}\nagents: {count: 1}\nqueues: {count: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s2.SetSeed(99)
	if s2.Source.SourceID != given {
		t.Errorf("given sourceId changed to %s", s2.Source.SourceID)
	}
}
