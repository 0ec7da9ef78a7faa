package privacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
)

// memBlobs is the bucket in memory; failPut makes the n-th Put from now fail once (an
// interruption midway through a build).
type memBlobs struct {
	mu      sync.Mutex
	objs    map[string][]byte
	puts    int
	failAt  int // fail the Put with this number (1-based), 0: never
	failed  int
	presign []string
}

func newBlobs() *memBlobs { return &memBlobs{objs: map[string][]byte{}} }

func (b *memBlobs) Put(_ context.Context, o blob.Object, body []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts++
	if b.failAt != 0 && b.puts == b.failAt {
		b.failed++
		return apperr.New(apperr.Unavailable, "bucket unreachable")
	}
	b.objs[o.Key] = append([]byte(nil), body...)
	return nil
}

func (b *memBlobs) Get(_ context.Context, key string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, ok := b.objs[key]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no object")
	}
	return body, nil
}

func (b *memBlobs) Exists(_ context.Context, key string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.objs[key]
	return ok, nil
}

func (b *memBlobs) PresignGet(_ context.Context, o blob.Object, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("presign with ttl %s", ttl)
	}
	u := fmt.Sprintf("https://bucket.example/%s?ttl=%d", o.Key, int(ttl.Seconds()))
	b.mu.Lock()
	b.presign = append(b.presign, u)
	b.mu.Unlock()
	return u, nil
}

func (b *memBlobs) PresignPut(context.Context, blob.Object, int64, time.Duration) (string, error) {
	return "", fmt.Errorf("not used")
}

// memQueue records the messages sent.
type memQueue struct {
	mu   sync.Mutex
	msgs []privacy.Message
	fail error
}

func (q *memQueue) Send(_ context.Context, queue, typ, dedupe string, payload any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	if typ != privacy.MessageBuild || dedupe == "" {
		return fmt.Errorf("unexpected message %s %q on %s", typ, dedupe, queue)
	}
	q.msgs = append(q.msgs, payload.(privacy.Message))
	return nil
}

// take removes and returns the messages sent so far.
func (q *memQueue) take() []privacy.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.msgs
	q.msgs = nil
	return out
}

// call runs a route handler as the frame would, for user (with email).
func call(t testing.TB, h httpapi.Handler, user, email string, params map[string]string) (httpapi.Response, error) {
	t.Helper()
	r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{PathParameters: params},
		Principal: auth.Principal{UserID: user, Email: email}, ID: "req-1", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return h(context.Background(), r)
}

// drain runs the build for every queued message until the queue is empty, re-running a message
// whose run failed (as SQS redelivers it), at most maxRuns runs. It returns the runs made.
func drain(t testing.TB, b *privacy.Builder, q *memQueue, maxRuns int) int {
	t.Helper()
	runs := 0
	pending := q.take()
	for len(pending) > 0 {
		m := pending[0]
		pending = pending[1:]
		runs++
		if runs > maxRuns {
			t.Fatalf("still building after %d runs", maxRuns)
		}
		if err := b.Run(context.Background(), m); err != nil {
			pending = append([]privacy.Message{m}, pending...) // redelivered
		}
		pending = append(pending, q.take()...)
	}
	return runs
}

// document reads export.json out of a zip.
func document(t testing.TB, zipBody []byte) (privacy.Document, map[string][]byte) {
	t.Helper()
	files := privacytest.Unzip(t, zipBody)
	raw, ok := files[privacy.DocumentName]
	if !ok {
		t.Fatalf("the zip has no %s: %v", privacy.DocumentName, keys(files))
	}
	var doc privacy.Document
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("export.json: %v", err)
	}
	return doc, files
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
