package invoke

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/liberation/monetization/shared/manifest"
)

func TestInvoke(t *testing.T) {
	fn := manifest.Function{Name: "f", TimeoutSeconds: 1}
	var arn string
	ok := New(fn, func(ctx context.Context, in map[string]int) (map[string]int, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		arn = lc.InvokedFunctionArn
		return map[string]int{"n": in["n"] + 1}, nil
	})
	out, err := ok.Invoke(context.Background(), []byte(`{"n":1}`))
	if err != nil || string(out) != `{"n":2}` || arn != ARN("f") {
		t.Errorf("out=%s err=%v arn=%s", out, err, arn)
	}
	if _, err := ok.Invoke(context.Background(), []byte(`{"n":"x"}`)); err == nil {
		t.Error("a payload that does not unmarshal was accepted")
	}

	slow := New(fn, func(ctx context.Context) error { <-ctx.Done(); time.Sleep(50 * time.Millisecond); return nil })
	if _, err := slow.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, ErrTimeout) {
		t.Errorf("slow function: %v, want ErrTimeout", err)
	}
	parent, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := slow.Invoke(parent, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: %v, want DeadlineExceeded", err)
	}

	panics := New(fn, func(context.Context) error { panic("bad") })
	if _, err := panics.Invoke(context.Background(), []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("panic: %v", err)
	}
}
