package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
)

// errScan is returned by the scanner on input that is not well-formed JSON.
// Callers validate with json.Valid first, so it only guards against misuse.
var errScan = errors.New("malformed JSON")

// valueFunc is called by transform for every string value that is a member of
// an object. depth is 1 for the top-level object; key and val are the raw
// quoted bytes. It appends the value to dst, changed or not.
type valueFunc func(dst []byte, depth int, key, val []byte) ([]byte, error)

// transform copies the JSON text src to dst, passing every string member
// value through fn. It is a single linear pass with no allocation beyond dst,
// because it runs once per replayed event.
func transform(dst, src []byte, fn valueFunc) ([]byte, error) {
	// stack holds one entry per open container: true for an object.
	var stackArr [16]bool
	stack := stackArr[:0]
	expectKey := false
	var key []byte
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '{':
			stack = append(stack, true)
			expectKey = true
			dst = append(dst, c)
			i++
		case '[':
			stack = append(stack, false)
			expectKey = false
			dst = append(dst, c)
			i++
		case '}', ']':
			if len(stack) == 0 {
				return dst, errScan
			}
			stack = stack[:len(stack)-1]
			expectKey = false
			dst = append(dst, c)
			i++
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1]
			dst = append(dst, c)
			i++
		case '"':
			end := stringEnd(src, i)
			if end < 0 {
				return dst, errScan
			}
			s := src[i:end]
			i = end
			inObj := len(stack) > 0 && stack[len(stack)-1]
			switch {
			case inObj && expectKey:
				key = s
				expectKey = false
				dst = append(dst, s...)
			case inObj:
				var err error
				if dst, err = fn(dst, len(stack), key, s); err != nil {
					return dst, err
				}
			default:
				dst = append(dst, s...)
			}
		default:
			dst = append(dst, c)
			i++
		}
	}
	if len(stack) != 0 {
		return dst, errScan
	}
	return dst, nil
}

// stringEnd returns the index just past the closing quote of the string
// starting at src[i], or -1.
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// keyIs reports whether the raw quoted key equals name.
func keyIs(key []byte, name string) bool {
	return len(key) == len(name)+2 && string(key[1:len(key)-1]) == name
}

// unquote returns the Go string of a raw quoted JSON string.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// topStrings finds the top-level string members named a and b in the JSON
// object obj and returns their raw quoted values (nil when absent). obj must
// be valid JSON (json.Valid); it is scanned without copying.
func topStrings(obj []byte, a, b string) (va, vb []byte, err error) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, nil, errScan
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) {
			return nil, nil, errScan
		}
		if obj[i] == '}' {
			return va, vb, nil
		}
		if obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
		if i >= len(obj) || obj[i] != '"' {
			return nil, nil, errScan
		}
		end := stringEnd(obj, i)
		if end < 0 {
			return nil, nil, errScan
		}
		key := obj[i:end]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, nil, errScan
		}
		i = skipSpace(obj, i+1)
		vend := valueEnd(obj, i)
		if vend < 0 {
			return nil, nil, errScan
		}
		if obj[i] == '"' {
			if va == nil && keyIs(key, a) {
				va = obj[i:vend]
			} else if vb == nil && keyIs(key, b) {
				vb = obj[i:vend]
			}
		}
		i = vend
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
