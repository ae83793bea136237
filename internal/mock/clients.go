package mock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadClients reads the --clients YAML file:
//
//	clients:
//	  - id: ci-client
//	    secret: s3cret
//	    permissions: [conversation:conversation:inject]   # omitted: all three
//	    tokenLifetime: 1h                                 # omitted: server default
//
// Errors wrap ErrClients and name the file, line and field. They never
// quote a secret.
func LoadClients(path string) ([]Client, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	return parseClients(path, data)
}

func parseClients(name string, data []byte) ([]Client, error) {
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %w", name, line, fmt.Sprintf(format, args...), ErrClients)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail(1, "empty file (want a clients: list)")
		}
		// yaml's messages carry "line N" already.
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrClients)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fail(1, "want a mapping with a clients: list")
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value != "clients" {
			return nil, fail(k.Line, "unknown key %q (want clients)", k.Value)
		}
		list = root.Content[i+1]
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		line := root.Line
		if list != nil {
			line = list.Line
		}
		return nil, fail(line, "clients: want a non-empty list")
	}
	var out []Client
	seen := map[string]int{}
	for i, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fail(item.Line, "clients[%d]: want a mapping with id and secret", i)
		}
		c := Client{Permissions: AllPermissions()}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := item.Content[j], item.Content[j+1]
			where := fmt.Sprintf("clients[%d].%s", i, k.Value)
			scalar := func() (string, error) {
				if val.Kind != yaml.ScalarNode {
					return "", fail(val.Line, "%s: want a string", where)
				}
				return val.Value, nil
			}
			var err error
			switch k.Value {
			case "id":
				c.ID, err = scalar()
			case "secret":
				c.Secret, err = scalar()
			case "permissions":
				if val.Kind != yaml.SequenceNode {
					return nil, fail(val.Line, "%s: want a list of permission strings", where)
				}
				c.Permissions = []string{}
				for pi, p := range val.Content {
					if p.Kind != yaml.ScalarNode || strings.Count(p.Value, ":") != 2 && p.Value != "*" {
						return nil, fail(p.Line, "%s[%d]: want domain:entity:action, e.g. conversation:conversation:inject", where, pi)
					}
					c.Permissions = append(c.Permissions, p.Value)
				}
			case "tokenLifetime":
				var s string
				if s, err = scalar(); err == nil {
					c.TokenLifetime, err = time.ParseDuration(s)
					if err != nil || c.TokenLifetime <= 0 {
						return nil, fail(val.Line, "%s: want a positive duration such as 1h", where)
					}
				}
			default:
				return nil, fail(k.Line, "clients[%d]: unknown key %q (want id, secret, permissions, tokenLifetime)", i, k.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		switch {
		case c.ID == "":
			return nil, fail(item.Line, "clients[%d].id: required", i)
		case c.Secret == "":
			return nil, fail(item.Line, "clients[%d].secret: required", i)
		}
		if first, dup := seen[c.ID]; dup {
			return nil, fail(item.Line, "clients[%d].id: %q already used by clients[%d]", i, c.ID, first)
		}
		seen[c.ID] = i
		out = append(out, c)
	}
	return out, nil
}
