package recorder

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidJSON(t *testing.T) {
	tests := []string{
		`{}`, `[]`, ` {"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"]} `, `0`, `-0.0E-1`, `"\/"`,
		`{`, `{"a"}`, `{"a":}`, `[1,]`, `01`, `1.`, `.5`, `-`, `"\x"`, `"\u12G4"`, "\"a\x01\"", `tru`, `{} {}`, `{"a":1,}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 100) + strings.Repeat("]", 100),
	}
	for _, in := range tests {
		name := in
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run(name, func(t *testing.T) {
			if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
				t.Fatalf("validJSON = %v, json.Valid = %v", got, want)
			}
		})
	}
}

// FuzzValidJSON checks validJSON against json.Valid on any input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,true,null,"x\u00e9"]}`, presenceEvent, `[{}]`, `-0.1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}
