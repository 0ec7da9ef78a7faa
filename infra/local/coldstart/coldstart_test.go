// Package coldstart measures how long a function binary takes from exec to its first request for
// work from the Lambda Runtime API — the part of a cold start our code controls (Go runtime init,
// package init, platform.Load). The Runtime API is emulated by an HTTP server that records the
// first poll and then tells the process nothing more (it is killed).
package coldstart

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// go test -run '^$' -bench . -benchtime 20x ./infra/local/coldstart/
func BenchmarkInit(b *testing.B) {
	for _, fn := range []string{"list-tiers", "get-subscription", "stripe-webhook", "send-receipts"} {
		b.Run(fn, func(b *testing.B) { benchInit(b, fn) })
	}
}

func benchInit(b *testing.B, fn string) {
	bin := filepath.Join(b.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", bin, "./functions/"+fn)
	build.Dir = root(b)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", fn, err, out)
	}
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
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://"),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x",
		"TABLE_NAME=t", "BUCKET_NAME=b", "CURSOR_SECRET=0123456789abcdef0123", "MAIL_TRANSPORT=ses",
		"QUEUE_URL_RECEIPTS=http://127.0.0.1:1/q", "PATH=" + os.Getenv("PATH"),
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin)
		cmd.Env = env
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-polled:
			lat = append(lat, at.Sub(start))
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			b.Fatalf("%s never polled the Runtime API", fn)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-init-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-init-ms")
	if st, err := os.Stat(bin); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "binary-MB")
	}
}

func root(b *testing.B) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			b.Fatal("go.mod not found")
		}
		dir = parent
	}
}
