// Package platform builds, once per cold start, everything a function needs: configuration from the
// environment, AWS clients, the store, the queue sender, the mailer and the Stripe client. It makes
// no network call at init; secrets held in SSM are fetched on first use and cached.
package platform

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/mail"
	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
)

// Config is read from the environment. Local defaults live in infra/local (the dev stack), not here:
// in AWS a missing variable is an error at first use, not a silent default.
type Config struct {
	TableName       string
	BucketName      string
	PricePro        string
	PriceEnterprise string
	MailFrom        string
	AppURL          string
	StripeAPIBase   string // stripe-mock URL locally
	Region          string
	// AppOrigins are the web app's origins ("https://app.example.com"): ALLOWED_ORIGINS plus the
	// origin of APP_URL. Redirect URLs handed to Stripe must be on one of them.
	AppOrigins []string
}

// ConfigFromEnv reads Config.
func ConfigFromEnv(getenv func(string) string) Config {
	cfg := Config{
		TableName:       getenv(m.EnvTable),
		BucketName:      getenv(m.EnvBucket),
		PricePro:        getenv(m.EnvPricePro),
		PriceEnterprise: getenv(m.EnvPriceEnterprise),
		MailFrom:        or(getenv(m.EnvMailFrom), "Liberation <receipts@liberation.local>"),
		AppURL:          or(getenv(m.EnvAppURL), "http://localhost:5173"),
		StripeAPIBase:   getenv(m.EnvStripeAPIBase),
		Region:          or(getenv("AWS_REGION"), "us-east-1"),
	}
	cfg.AppOrigins = appOrigins(getenv(m.EnvAllowedOrigins), cfg.AppURL)
	return cfg
}

// appOrigins normalises the comma-separated origins and the app URL's origin ("scheme://host[:port]",
// lower case), dropping empty and malformed entries.
func appOrigins(list, appURL string) []string {
	var out []string
	seen := map[string]bool{}
	for _, raw := range append(strings.Split(list, ","), appURL) {
		if o := Origin(strings.TrimSpace(raw)); o != "" && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// Origin returns "scheme://host[:port]" of an absolute http(s) URL, lower case, or "".
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Deps is what handlers receive.
type Deps struct {
	Config  Config
	Clock   clock.Clock
	Store   *store.Store
	Queue   *queue.Sender
	S3      *s3.Client
	Presign *s3.PresignClient
	Mail    mail.Sender

	ssm    *ssm.Client
	getenv func(string) string

	mu            sync.Mutex
	stripe        *client.API
	webhookSecret string
}

// Load builds Deps from the environment. AWS_ENDPOINT_URL (honoured by the SDK) points every client
// at moto locally; S3 then needs path-style addressing.
func Load(ctx context.Context, getenv func(string) string) (*Deps, error) {
	cfg := ConfigFromEnv(getenv)
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	local := getenv("AWS_ENDPOINT_URL") != ""
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = local })
	mailer, err := mail.FromEnv(sesv2.NewFromConfig(awsCfg), getenv)
	if err != nil {
		return nil, err
	}
	if getenv(m.EnvCursorSecret) == "" && getenv(m.EnvCursorSecretName) == "" {
		return nil, fmt.Errorf("neither %s nor %s is set", m.EnvCursorSecret, m.EnvCursorSecretName)
	}
	d := &Deps{
		Config:  cfg,
		Clock:   clock.System{},
		Store:   store.New(dynamodb.NewFromConfig(awsCfg), cfg.TableName, clock.System{}, nil),
		Queue:   queue.NewSender(sqs.NewFromConfig(awsCfg), getenv),
		S3:      s3c,
		Presign: s3.NewPresignClient(s3c),
		Mail:    mailer,
		ssm:     ssm.NewFromConfig(awsCfg),
		getenv:  getenv,
	}
	d.Store.Cursor = store.NewLazyCursorCodec(func(ctx context.Context) ([]byte, error) {
		s, err := d.secret(ctx, m.EnvCursorSecret, m.EnvCursorSecretName)
		return []byte(s), err
	})
	return d, nil
}

// Stripe returns the Stripe client, reading the secret key on first use: STRIPE_SECRET_KEY if set
// (local), otherwise the SSM SecureString named by STRIPE_SECRET_KEY_PARAM (AWS).
func (d *Deps) Stripe(ctx context.Context) (*client.API, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stripe != nil {
		return d.stripe, nil
	}
	key, err := d.secret(ctx, m.EnvStripeKey, m.EnvStripeKeyParam)
	if err != nil {
		return nil, err
	}
	d.stripe = NewStripeClient(key, d.Config.StripeAPIBase)
	return d.stripe, nil
}

// SetStripe injects a Stripe client (tests).
func (d *Deps) SetStripe(c *client.API) { d.mu.Lock(); d.stripe = c; d.mu.Unlock() }

// WebhookSecret returns the Stripe webhook signing secret (env, or SSM by parameter name).
func (d *Deps) WebhookSecret(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.webhookSecret != "" {
		return d.webhookSecret, nil
	}
	s, err := d.secret(ctx, m.EnvWebhookSecret, m.EnvWebhookParam)
	if err != nil {
		return "", err
	}
	d.webhookSecret = s
	return s, nil
}

func (d *Deps) secret(ctx context.Context, envName, paramEnv string) (string, error) {
	if v := d.getenv(envName); v != "" {
		return v, nil
	}
	name := d.getenv(paramEnv)
	if name == "" {
		return "", apperr.New(apperr.Internal, "neither %s nor %s is set", envName, paramEnv)
	}
	out, err := d.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", apperr.Wrap(err, apperr.Unavailable, "read secret parameter")
	}
	return aws.ToString(out.Parameter.Value), nil
}

// NewStripeClient returns a stripe-go client; apiBase (stripe-mock) overrides the API URL.
// Retries are left to stripe-go (it retries network errors and 409/429/5xx with the same
// idempotency key).
func NewStripeClient(key, apiBase string) *client.API {
	httpClient := &http.Client{Timeout: 20 * time.Second}
	cfg := &stripe.BackendConfig{HTTPClient: httpClient, MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	if apiBase != "" {
		cfg.URL = stripe.String(apiBase)
	}
	backends := &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	}
	return client.New(key, backends)
}

// Start is the whole of a function's main: load Deps once per cold start, build the handler, and
// hand it to the Lambda runtime.
func Start[H any](name string, build func(fn m.Function, d *Deps) H) {
	fn := m.MustByName(name)
	d, err := Load(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"init failed","function":%q,"err":%q}`+"\n", name, err.Error())
		os.Exit(1)
	}
	lambda.Start(build(fn, d))
}
