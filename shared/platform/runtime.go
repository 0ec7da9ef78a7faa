// Package platform is what every function process is built on: its manifest entry, configuration,
// clock, logger, AWS configuration and secrets (a Runtime), the clients built for it once per cold
// start, and the optional capabilities (queue sender, blob store, mailer) its main links in.
//
// It makes no network call at init and links no AWS service package: each client lives in the
// package that uses it (store for DynamoDB, queue/sqsqueue for SQS, blob/s3blob for S3,
// mail/sesmail for SES), and a function's generated main links only the ones its manifest entry
// declares, so its cold start pays only for those (docs/decisions/0015).
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	m "github.com/liberation/monetization/shared/manifest"
)

// Runtime is one function's view of the process: what it is, how it is configured, and the clients
// it may use.
type Runtime struct {
	Fn      m.Function
	Config  Config
	Clock   clock.Clock
	Getenv  func(string) string
	AWS     aws.Config
	Secrets *Secrets
	Log     *slog.Logger

	caps  map[string]any // this function's capabilities, by name
	parts *parts         // clients shared by every function of the process
}

type parts struct {
	mu sync.Mutex
	m  map[string]any
}

// New builds the runtime of fn from getenv. It reads configuration only: no network call.
func New(ctx context.Context, fn m.Function, getenv func(string) string) (*Runtime, error) {
	cfg := ConfigFromEnv(getenv)
	awsCfg := AWSConfig(getenv, cfg.Region)
	return &Runtime{
		Fn: fn, Config: cfg, Clock: clock.System{}, Getenv: getenv, AWS: awsCfg,
		Secrets: NewSecrets(getenv, awsCfg),
		Log:     logging.New(os.Stdout, fn.Name),
		caps:    map[string]any{},
		parts:   &parts{m: map[string]any{}},
	}, nil
}

// AWSConfig is the SDK configuration of a function: the region, and the credentials Lambda puts in
// the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN — what the SDK's
// default chain resolves to inside Lambda). It is built by hand rather than by config.LoadDefaultConfig
// because that loader links the STS, SSO and SSO-OIDC clients, whose package initialisation costs
// every cold start ~1.5 ms for credential sources a Lambda never uses (docs/decisions/0015).
// Endpoint overrides (moto locally) are applied per client: see Endpoint.
func AWSConfig(getenv func(string) string, region string) aws.Config {
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
		if id == "" || secret == "" {
			return aws.Credentials{}, fmt.Errorf("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
		}
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"),
			Source: "EnvironmentVariables"}, nil
	})
	return aws.Config{Region: region, Credentials: aws.NewCredentialsCache(creds)}
}

// Endpoint returns the endpoint override for a service ("DYNAMODB", "SQS", "S3", "SESV2"):
// AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else nil (the SDK's regional endpoint). These
// are the SDK's own variable names, so tools and functions agree.
func (rt *Runtime) Endpoint(service string) *string {
	for _, k := range []string{"AWS_ENDPOINT_URL_" + service, "AWS_ENDPOINT_URL"} {
		if v := rt.Getenv(k); v != "" {
			return aws.String(v)
		}
	}
	return nil
}

// For returns the runtime of another function sharing this one's configuration, secrets and
// clients, with no capabilities of its own yet. The local gateway serves every function from one
// process this way.
func (rt *Runtime) For(fn m.Function) *Runtime {
	out := *rt
	out.Fn = fn
	out.Log = rt.Log.With("function", fn.Name)
	if rt.Fn.Name == "" {
		out.Log = logging.New(os.Stdout, fn.Name)
	}
	out.caps = map[string]any{}
	return &out
}

// Shared returns the process-wide value named key, building it on first use (clients are built
// once per cold start, never per request).
func Shared[T any](rt *Runtime, key string, build func() T) T {
	rt.parts.mu.Lock()
	defer rt.parts.mu.Unlock()
	if v, ok := rt.parts.m[key]; ok {
		return v.(T)
	}
	v := build()
	rt.parts.m[key] = v
	return v
}

// Override replaces the process-wide value named key (tests inject fakes and fault injectors).
func Override(rt *Runtime, key string, v any) {
	rt.parts.mu.Lock()
	rt.parts.m[key] = v
	rt.parts.mu.Unlock()
}

// Provider installs an optional capability into a runtime. Generated mains pass the providers of
// the capabilities the manifest entry declares (Sends → queue, Bucket → blobs, Email → mail).
type Provider func(*Runtime) error

// Capability names, and the manifest field that grants each.
const (
	CapQueue = "queue" // Function.Sends
	CapBlobs = "blobs" // Function.Bucket
	CapMail  = "mail"  // Function.Email
)

var capabilityField = map[string]string{CapQueue: "Sends", CapBlobs: "Bucket", CapMail: "Email"}

// Provide gives this function the capability name.
func (rt *Runtime) Provide(name string, v any) { rt.caps[name] = v }

// Capability returns the function's capability name as a T. A function whose manifest entry does
// not declare it gets an error naming the field to declare: its main does not link the client.
func Capability[T any](rt *Runtime, name string) (T, error) {
	var zero T
	v, ok := rt.caps[name]
	if !ok {
		return zero, fmt.Errorf("function %s has no %s capability: declare %s in its manifest entry and run make generate",
			rt.Fn.Name, name, capabilityField[name])
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("function %s: capability %s is a %T, not the expected type", rt.Fn.Name, name, v)
	}
	return t, nil
}

// Start is the whole of a generated main: build the runtime once per cold start, install the
// providers, build the handler, and hand it to the Lambda runtime.
func Start[H any](name string, build func(*Runtime) (H, error), providers ...Provider) {
	fn := m.MustByName(name)
	rt, err := New(context.Background(), fn, os.Getenv)
	if err == nil {
		for _, p := range providers {
			if err = p(rt); err != nil {
				break
			}
		}
	}
	var h H
	if err == nil {
		h, err = build(rt)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"init failed","function":%q,"err":%q}`+"\n", name, err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
