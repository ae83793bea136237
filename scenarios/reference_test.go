package scenarios

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// knownKeys discovers every key the parser accepts, by asking it: an
// unknown key's error lists the keys wanted at that place.
func knownKeys(t *testing.T, path []string, out map[string]bool) {
	t.Helper()
	doc := "zzz: 1"
	for i := len(path) - 1; i >= 0; i-- {
		doc = path[i] + ": {" + doc + "}"
	}
	_, err := Parse("k.yaml", []byte("name: k\nduration: 1s\n"+doc+"\n"))
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Msg, "want one of: ") {
		return // a scalar, a list, or a family value: no keys below
	}
	if e.Path != strings.Join(append(append([]string{}, path...), "zzz"), ".") {
		return
	}
	list := e.Msg[strings.Index(e.Msg, "want one of: ")+len("want one of: ") : len(e.Msg)-1]
	for _, k := range strings.Split(list, ", ") {
		p := append(append([]string{}, path...), k)
		key := strings.Join(p, ".")
		if out[key] || len(p) > 5 {
			continue
		}
		out[key] = true
		knownKeys(t, p, out)
	}
}

// TestReferenceDocumentsEveryKey keeps reference.yaml complete.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	keys := map[string]bool{}
	knownKeys(t, nil, keys)
	for _, k := range []string{"agents.notResponding.recovery", "voice.talk.lognormal", "limits.endpoints.presence", "faults.invalidRate", "retry.backoff.jitter"} {
		if !keys[k] {
			t.Fatalf("key discovery missed %s (found %d keys)", k, len(keys))
		}
	}
	ref, err := os.ReadFile("reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !regexp.MustCompile(`(^|[\s{,#])` + regexp.QuoteMeta(leaf) + `:`).Match(ref) {
			t.Errorf("reference.yaml does not document %s", k)
		}
	}
}
