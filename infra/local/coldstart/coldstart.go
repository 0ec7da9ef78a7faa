// Package coldstart measures how long a function binary takes from exec to its first request for
// work from the Lambda Runtime API — the part of a cold start our code controls (Go runtime start,
// package initialisation, building the runtime and handler) — against a hello-world aws-lambda-go
// binary built the same way in the same run. The Runtime API is emulated by an HTTP server that
// records the first poll and then holds it until the process is killed.
//
// Binaries are measured round-robin (one exec of each per round), so background load on the
// machine affects all of them alike; the ratio to hello-world is the number to compare across runs.
package coldstart

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Hello is the name of the reference binary in a Build directory.
const Hello = "hello-world"

// Build compiles every main package under functions/ (one go build invocation) plus the hello-world
// reference into dir, stripped, with the Lambda flags of `make build` for the host architecture.
func Build(root, dir string, goarch string) error {
	env := append(os.Environ(), "CGO_ENABLED=0")
	if goarch != "" {
		env = append(env, "GOARCH="+goarch)
	}
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o"}
	for _, target := range []struct{ out, pkg string }{
		{dir + string(os.PathSeparator), "./functions/..."},
		{filepath.Join(dir, Hello), "./infra/local/coldstart/testdata/hello"},
	} {
		cmd := exec.Command("go", append(append([]string{}, args...), target.out, target.pkg)...)
		cmd.Dir, cmd.Env = root, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", target.pkg, err, out)
		}
	}
	return nil
}

// Result is one binary's measurement.
type Result struct {
	Name  string
	Bytes int64
	P50   time.Duration
	Max   time.Duration
	// Ratio is P50 ÷ the hello-world binary's P50 in the same run.
	Ratio float64
}

// Measure runs every binary in dir rounds times and returns one Result per binary, hello-world
// first, then by name.
func Measure(dir string, rounds int) ([]Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && e.Name() != Hello {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	names = append([]string{Hello}, names...)

	polled := make(chan time.Time, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
			select {
			case polled <- time.Now():
			default:
			}
			<-r.Context().Done() // hold the long poll until the process is killed
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer api.Close()
	env := Env(strings.TrimPrefix(api.URL, "http://"))

	lat := make(map[string][]time.Duration, len(names))
	for r := 0; r < rounds; r++ {
		for _, name := range names {
			d, err := once(filepath.Join(dir, name), env, polled)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			lat[name] = append(lat[name], d)
		}
	}
	out := make([]Result, 0, len(names))
	for _, name := range names {
		l := lat[name]
		slices.Sort(l)
		res := Result{Name: name, P50: l[len(l)/2], Max: l[len(l)-1]}
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
			res.Bytes = st.Size()
		}
		out = append(out, res)
	}
	for i := range out {
		out[i].Ratio = float64(out[i].P50) / float64(out[0].P50)
	}
	return out, nil
}

// Env is the environment a function sees at init in AWS: region, credentials, its configuration and
// the names of its secrets (read later, on first use), pointing at an emulated Runtime API.
func Env(runtimeAPI string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_SESSION_TOKEN=x",
		"TABLE_NAME=t", "BUCKET_NAME=b", "CURSOR_SECRET_PARAM=/p/cursor", "STRIPE_SECRET_KEY_PARAM=/p/stripe",
		"STRIPE_WEBHOOK_SECRET_PARAM=/p/webhook", "MAIL_TRANSPORT=ses", "APP_URL=https://app.example.com",
		"QUEUE_URL_RECEIPTS=http://127.0.0.1:1/q", "PATH=" + os.Getenv("PATH"),
	}
}

func once(bin string, env []string, polled <-chan time.Time) (time.Duration, error) {
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case at := <-polled:
		return at.Sub(start), nil
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("never polled the Runtime API (init failed?)")
	}
}

// Report writes the results as a table, marking binaries over the targets.
func Report(w io.Writer, res []Result, maxRatio float64, maxBytes int64) {
	fmt.Fprintf(w, "%-24s %9s %9s %9s %7s  %s\n", "binary", "size MB", "p50 ms", "max ms", "× hello", "")
	for _, r := range res {
		var notes []string
		if r.Name != Hello && r.Ratio > maxRatio {
			notes = append(notes, fmt.Sprintf("init over %.0f× hello-world", maxRatio))
		}
		if r.Name != Hello && r.Bytes > maxBytes {
			notes = append(notes, fmt.Sprintf("over %d MB", maxBytes>>20))
		}
		fmt.Fprintf(w, "%-24s %9.1f %9.2f %9.2f %7.2f  %s\n", r.Name, float64(r.Bytes)/(1<<20),
			float64(r.P50.Microseconds())/1000, float64(r.Max.Microseconds())/1000, r.Ratio, strings.Join(notes, "; "))
	}
}
