// Package invoke runs a function's handler the way the Lambda runtime does: the payload is JSON
// bytes, decoded into the handler's event type by lambda.NewHandler (so a field that would not
// unmarshal in AWS does not unmarshal here either), with a Lambda context, the function's timeout,
// and a panic turned into a function error instead of killing the local stack.
package invoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/liberation/monetization/shared/manifest"
)

// Local identity of the emulated AWS account (moto's default account) and region.
const (
	AccountID = "123456789012"
	Region    = "us-east-1"
)

// ErrTimeout is returned when the handler outlives the function's timeout ("Task timed out").
var ErrTimeout = errors.New("task timed out")

// Function is a manifest function with its runtime handler.
type Function struct {
	manifest.Function
	handler lambda.Handler
}

// New wraps handler (any signature lambda.Start accepts).
func New(fn manifest.Function, handler any) *Function {
	return &Function{Function: fn, handler: lambda.NewHandler(handler)}
}

// ARN is the function's local ARN.
func ARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + name
}

// Invoke runs the handler on payload and returns its JSON response. A handler error is returned as
// an error, as the Lambda service reports a function error.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, time.Duration(f.Timeout())*time.Second)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       RequestID(),
		InvokedFunctionArn: ARN(f.Name),
	})
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{nil, fmt.Errorf("runtime error: panic in %s: %v", f.Name, p)}
			}
		}()
		out, err := f.handler.Invoke(ctx, payload)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		// Lambda freezes a timed-out sandbox; here the goroutine finishes on its own (or honours ctx).
		if err := parent.Err(); err != nil {
			return nil, err // the caller gave up first (API Gateway's 30 s, Ctrl-C)
		}
		return nil, fmt.Errorf("%w after %d seconds", ErrTimeout, f.Timeout())
	}
}

// RequestID is a random UUID-shaped id like Lambda's.
func RequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
