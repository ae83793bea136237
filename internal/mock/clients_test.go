package mock

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadClients(t *testing.T) {
	got, err := LoadClients(filepath.Join("testdata", "clients.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Client{
		{ID: "ci-client", Secret: "ci-secret", Permissions: AllPermissions()},
		{ID: "presence-feed", Secret: "feed-secret", Permissions: []string{"presence:userPresence:inject", "routing:*:inject"}, TokenLifetime: 10 * time.Minute},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// The wildcard grants routingstatus but not conversations.
	if !permitted(got[1].Permissions, "routing:routingstatus:inject") || permitted(got[1].Permissions, "conversation:conversation:inject") {
		t.Error("wildcard permission matching is wrong")
	}
}

func TestLoadClientsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "clients.yaml:1: empty file"},
		{"not a mapping", "- a\n", "clients.yaml:1: want a mapping"},
		{"unknown top key", "client:\n  - id: a\n", `clients.yaml:1: unknown key "client"`},
		{"empty list", "clients: []\n", "clients.yaml:1: clients: want a non-empty list"},
		{"unknown key", "clients:\n  - id: a\n    secret: b\n    scopes: [x]\n", `clients.yaml:4: clients[0]: unknown key "scopes"`},
		{"missing secret", "clients:\n  - id: a\n", "clients.yaml:2: clients[0].secret: required"},
		{"missing id", "clients:\n  - secret: hunter2\n", "clients.yaml:2: clients[0].id: required"},
		{"duplicate id", "clients:\n  - {id: a, secret: b}\n  - {id: a, secret: c}\n", `clients.yaml:3: clients[1].id: "a" already used by clients[0]`},
		{"bad permission", "clients:\n  - id: a\n    secret: b\n    permissions: [inject]\n", "clients.yaml:4: clients[0].permissions[0]"},
		{"bad lifetime", "clients:\n  - id: a\n    secret: b\n    tokenLifetime: forever\n", "clients.yaml:4: clients[0].tokenLifetime"},
		{"secret not a string", "clients:\n  - id: a\n    secret: [hunter2]\n", "clients.yaml:3: clients[0].secret: want a string"},
		{"syntax", "clients:\n  - id: a\n   secret: b\n", "clients.yaml: yaml: line "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clients.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadClients(path)
			if !errors.Is(err, ErrClients) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrClients mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
	if _, err := LoadClients(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseClients checks that no file panics the parser and that what it
// accepts is a usable server configuration.
func FuzzParseClients(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "clients.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("clients:\n  - {id: a, secret: b, permissions: []}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := parseClients("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, ErrClients) {
				t.Fatalf("error %v does not wrap ErrClients", err)
			}
			return
		}
		if _, err := New(Config{Clients: cs}); err != nil {
			t.Fatalf("parsed clients %+v rejected by New: %v", cs, err)
		}
	})
}
