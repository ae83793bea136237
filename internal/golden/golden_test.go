package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder captures what Check reports instead of failing the real test.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, args ...any) {
	r.msg = strings.TrimSpace(sprintf(f, args...))
	panic(r)
}
func (r *recorder) Fatal(args ...any)      { r.msg = "fatal"; panic(r) }
func sprintf(f string, args ...any) string { return fmt.Sprintf(f, args...) }

func check(t *testing.T, path string, got string, update bool) (msg string) {
	r := &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		msg = r.msg
	}()
	Check(r, path, []byte(got), update)
	return ""
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if msg := check(t, path, "a\nb\n", true); msg != "" {
		t.Fatalf("update: %s", msg)
	}
	if b, _ := os.ReadFile(path); string(b) != "a\nb\n" {
		t.Fatalf("update wrote %q", b)
	}
	tests := []struct{ name, got, want string }{
		{"equal", "a\nb\n", ""},
		{"line differs", "a\nc\n", "differs at line 2"},
		{"longer", "a\nb\nc\n", "differs at line 3"},
		{"no final newline", "a\nb", "differs in length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := check(t, path, tc.got, false)
			if (tc.want == "") != (msg == "") || !strings.Contains(msg, tc.want) {
				t.Errorf("got %q, want a message containing %q", msg, tc.want)
			}
		})
	}
}
