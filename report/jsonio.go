package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteJSON writes r as indented run.json. Output is deterministic: map
// keys are sorted.
func WriteJSON(w io.Writer, r *Run) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode run.json: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("report: write run.json: %w", err)
	}
	return nil
}

// ReadJSON reads a run.json. Errors wrap ErrSchema and say where the input
// is wrong (line and column for malformed JSON, the field for bad values);
// a schemaVersion newer than SchemaVersion is refused.
func ReadJSON(rd io.Reader) (*Run, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrSchema, err)
	}
	var probe struct {
		SchemaVersion *int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonError(data, err)
	}
	switch {
	case probe.SchemaVersion == nil:
		return nil, fmt.Errorf("%w: no schemaVersion: not a loadgen run.json", ErrSchema)
	case *probe.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("%w: schemaVersion %d is newer than this loadgen reads (%d): upgrade loadgen", ErrSchema, *probe.SchemaVersion, SchemaVersion)
	case *probe.SchemaVersion < 1:
		return nil, fmt.Errorf("%w: schemaVersion %d: want %d", ErrSchema, *probe.SchemaVersion, SchemaVersion)
	}
	r := new(Run)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, jsonError(data, err)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// validate checks what the renderers and Merge rely on and fills nil maps.
func (r *Run) validate() error {
	if r.Endpoints == nil {
		r.Endpoints = map[string]*EndpointStats{}
	}
	if r.EventTypes == nil {
		r.EventTypes = map[string]*Ledger{}
	}
	for name, st := range r.Endpoints {
		if st == nil {
			return fmt.Errorf("%w: endpoints.%s: null", ErrSchema, name)
		}
		if st.StatusCodes == nil {
			st.StatusCodes = map[string]int64{}
		}
		for hn, s := range st.Histograms {
			if _, err := decodeHist(s); err != nil {
				return fmt.Errorf("endpoints.%s.histograms.%s: %w", name, hn, err)
			}
		}
	}
	for name, l := range r.EventTypes {
		if l == nil {
			return fmt.Errorf("%w: eventTypes.%s: null", ErrSchema, name)
		}
	}
	for i := range r.Timeline {
		if r.Timeline[i].Second < 0 {
			return fmt.Errorf("%w: timeline[%d].second: negative", ErrSchema, i)
		}
	}
	return nil
}

// jsonError turns a decoding error into one naming line, column and field.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return fmt.Errorf("%w: line %d, column %d: %w", ErrSchema, line, col, err)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return fmt.Errorf("%w: line %d, column %d: field %s: want %s, got JSON %s", ErrSchema, line, col, typ.Field, typ.Type, typ.Value)
	}
	return fmt.Errorf("%w: %w", ErrSchema, err)
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// ReadFile reads a run.json file; errors name the file.
func ReadFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// FileOptions chooses the artefacts WriteFiles writes besides run.json and
// report.html.
type FileOptions struct {
	// JUnit also writes junit.xml.
	JUnit bool
	// Text also writes summary.txt.
	Text bool
}

// Artefact file names written by WriteFiles.
const (
	FileRun    = "run.json"
	FileHTML   = "report.html"
	FileJUnit  = "junit.xml"
	FileText   = "summary.txt"
	FileFailed = "failures.ndjson"
)

// WriteFiles writes run.json and report.html (and junit.xml, summary.txt
// when asked) into dir, creating it. Each file is written to a temporary
// file and renamed, so a reader never sees half a file.
func WriteFiles(dir string, r *Run, opts FileOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	files := []struct {
		name  string
		write func(io.Writer, *Run) error
	}{{FileRun, WriteJSON}, {FileHTML, WriteHTML}}
	if opts.JUnit {
		files = append(files, struct {
			name  string
			write func(io.Writer, *Run) error
		}{FileJUnit, WriteJUnit})
	}
	if opts.Text {
		files = append(files, struct {
			name  string
			write func(io.Writer, *Run) error
		}{FileText, WriteText})
	}
	for _, f := range files {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), func(w io.Writer) error { return f.write(w, r) }); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic writes path through a temporary file in the same
// directory and renames it into place.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("report: %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
