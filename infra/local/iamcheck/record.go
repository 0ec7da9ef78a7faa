package iamcheck

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// EnvUseLog names the file the local stack appends its allowed calls to (one JSON Use a line).
// Unset: nothing is recorded.
const EnvUseLog = "LIBERATION_IAM_USE_LOG"

// Use is one allowed call: the function, the IAM action, the resource ARN, and the manifest's
// resource template of the grant that allowed it ("${TableArn}/index/*").
type Use struct {
	Function string `json:"function"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Grant    string `json:"grant"`
}

// Recorder appends each distinct Use once per process to a file, one JSON line each. Safe for
// concurrent use; several processes may append to the same file (O_APPEND, one write per line).
type Recorder struct {
	path string
	mu   sync.Mutex
	seen map[Use]bool
	err  error
}

var (
	recordersMu sync.Mutex
	recorders   = map[string]*Recorder{}
)

// RecorderAt returns the process's recorder of path ("" : nil, recording nothing).
func RecorderAt(path string) *Recorder {
	if path == "" {
		return nil
	}
	recordersMu.Lock()
	defer recordersMu.Unlock()
	if r, ok := recorders[path]; ok {
		return r
	}
	r := &Recorder{path: path, seen: map[Use]bool{}}
	recorders[path] = r
	return r
}

// Record appends u unless this process has recorded it already. A write error is kept (Err) and
// does not fail the call: recording is evidence, the check is the enforcement.
func (r *Recorder) Record(u Use) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[u] {
		return
	}
	line, _ := json.Marshal(u)
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		r.err = err
		return
	}
	r.seen[u] = true
}

// Err is the first write error, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// ReadUses reads a use log; a missing file is no uses.
func ReadUses(path string) ([]Use, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Use
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var u Use
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, u)
	}
	return out, sc.Err()
}
