package main

import (
	"bufio"
	"os"
	"strings"
)

// credentials looks up the GENESYSCLOUD_* settings: from the --credentials
// file when given (so secrets need not sit in the environment of every
// process), else from the environment. A secret is never a flag value.
type credentials struct {
	file map[string]string
}

// loadCredentials reads a file of KEY=VALUE lines ("#" comments and blank
// lines allowed; "export " prefixes tolerated). Only the four GENESYSCLOUD_*
// names are accepted, so a typo is an error rather than a silent fallback;
// errors name the file and line but never quote a value.
func loadCredentials(path string) (*credentials, error) {
	c := &credentials{}
	if path == "" {
		return c, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--credentials: %w", err)
	}
	defer f.Close()
	c.file = map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, usagef("%s:%d: want KEY=VALUE", path, n)
		}
		switch key {
		case envClientID, envClientSecret, envRegion, envAccessToken:
		default:
			// The name is not quoted: a line holding only a secret with
			// a '=' in it would otherwise print part of the secret.
			return nil, usagef("%s:%d: unknown name (want %s, %s, %s or %s)", path, n, envClientID, envClientSecret, envRegion, envAccessToken)
		}
		c.file[key] = strings.Trim(strings.TrimSpace(val), `"'`)
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("--credentials %s: %w", path, err)
	}
	return c, nil
}

// get returns the value of name, the file first.
func (c *credentials) get(name string) string {
	if v, ok := c.file[name]; ok {
		return v
	}
	return os.Getenv(name)
}
