// Package logscan keeps the functions' log lines of a test run and checks them for personal data
// and secrets: e-mail addresses, bearer tokens and JWTs, Stripe secrets and card numbers
// (logging.Find). Functions log JSON lines to stdout (in Lambda, stdout is the log group), so
// Capture tees the test binary's stdout: everything still reaches the terminal, and every JSON line
// carrying a "function" field is also written to a file under the local state directory. Check
// scans that file after the tests (docs/decisions/0079).
package logscan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/liberation/monetization/shared/logging"
)

// Hit is one finding: where it is, never what it is.
type Hit struct {
	Line     int    // 1-based line in the log file
	Function string // the line's "function" field
	Field    string // the JSON path of the value ("err", "outer.inner.to", "meta[2]")
	Kind     logging.Kind
}

func (h Hit) String() string {
	return fmt.Sprintf("line %d: function %s, field %s: %s", h.Line, h.Function, h.Field, h.Kind)
}

// Scan reads JSON log lines and reports every value holding personal data or a secret. Lines that
// are not JSON objects with a "function" field (test output) are skipped; numbers are checked too
// (a card number logged as an integer).
func Scan(r io.Reader) ([]Hit, error) {
	var hits []Hit
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			hits = append(hits, scanLine(n, line)...)
		}
		if err == io.EOF {
			return hits, nil
		}
		if err != nil {
			return hits, err
		}
	}
}

func scanLine(n int, line []byte) []Hit {
	rec, ok := functionLine(line)
	if !ok {
		return nil
	}
	fn, _ := rec["function"].(string)
	var hits []Hit
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case string:
			for _, k := range logging.Find(v) {
				hits = append(hits, Hit{Line: n, Function: fn, Field: path, Kind: k})
			}
		case json.Number:
			for _, k := range logging.Find(v.String()) {
				hits = append(hits, Hit{Line: n, Function: fn, Field: path, Kind: k})
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, v[k])
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("", rec)
	return hits
}

// functionLine decodes a function's log line: a JSON object with a string "function" field.
func functionLine(line []byte) (map[string]any, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var rec map[string]any
	if dec.Decode(&rec) != nil {
		return nil, false
	}
	if _, ok := rec["function"].(string); !ok {
		return nil, false
	}
	return rec, true
}

// Capture tees os.Stdout: every line still goes to the original stdout, and function log lines
// are also appended to File.
type Capture struct {
	File string
	orig *os.File
	w    *os.File
	f    *os.File
	done chan struct{}
}

// Start replaces os.Stdout by a pipe until Stop. Call it before anything builds a logger (loggers
// keep the *os.File they were given). dir is created; name prefixes the file
// ("<name>-functions-<time>-<pid>.log": concurrent runs in one tree do not share a file). Files of
// this name older than a day are removed.
func Start(dir, name string) (*Capture, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	prune(dir, name, 24*time.Hour)
	path := filepath.Join(dir, fmt.Sprintf("%s-functions-%s-%d.log", name, time.Now().UTC().Format("20060102T150405"), os.Getpid()))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &Capture{File: path, orig: os.Stdout, w: w, f: f, done: make(chan struct{})}
	go c.copy(r)
	os.Stdout = w
	return c, nil
}

func (c *Capture) copy(r *os.File) {
	defer close(c.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	out := bufio.NewWriter(c.f)
	defer out.Flush()
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			_, _ = c.orig.Write(line)
			if _, ok := functionLine(line); ok {
				_, _ = out.Write(line)
				if line[len(line)-1] != '\n' {
					_ = out.WriteByte('\n')
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Stop restores os.Stdout and waits until every captured line is written.
func (c *Capture) Stop() error {
	os.Stdout = c.orig
	c.w.Close()
	<-c.done
	return c.f.Close()
}

// Check scans the captured file; it reports the hits on w (at most 50, then a count) and returns
// how many there were.
func (c *Capture) Check(w io.Writer) (int, error) {
	f, err := os.Open(c.File)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	hits, err := Scan(f)
	if err != nil {
		return 0, err
	}
	if len(hits) == 0 {
		return 0, nil
	}
	fmt.Fprintf(w, "logscan: %d value(s) in the functions' logs hold personal data or a secret (%s); "+
		"log ids, not addresses, tokens or card data, and see docs/operations.md#logs:\n", len(hits), c.File)
	for i, h := range hits {
		if i == 50 {
			fmt.Fprintf(w, "  … and %d more\n", len(hits)-50)
			break
		}
		fmt.Fprintln(w, "  "+h.String())
	}
	return len(hits), nil
}

// Run is what a TestMain passes to localtest.Main: it captures stdout around m.Run into
// <dir>/<name>-functions-….log and fails the run (exit status 1) when the capture holds personal
// data or secrets, after the tests so that every test's lines — parallel ones and cleanups
// included — are seen.
type Run struct {
	M interface{ Run() int }
	// Dir and Name place the file (Start).
	Dir, Name string
}

// Run implements localtest's runner.
func (r Run) Run() int {
	c, err := Start(r.Dir, r.Name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "logscan: cannot capture the functions' logs:", err)
		return 1
	}
	code := r.M.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "logscan:", err)
		return 1
	}
	n, err := c.Check(os.Stderr)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "logscan:", err)
		return 1
	case n > 0:
		fmt.Fprintln(os.Stderr, "FAIL: logscan")
		return 1
	}
	fmt.Fprintf(os.Stderr, "logscan: the functions' logs hold no personal data or secrets (%s)\n", c.File)
	return code
}

func prune(dir, name string, age time.Duration) {
	old, _ := filepath.Glob(filepath.Join(dir, name+"-functions-*.log"))
	for _, p := range old {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > age {
			_ = os.Remove(p)
		}
	}
}
