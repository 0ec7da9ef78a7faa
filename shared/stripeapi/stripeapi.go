// Package stripeapi is the one way the system calls Stripe: a client whose timeouts and retries fit
// inside the calling function's own timeout, calls bound to the request's context, idempotency keys
// built in one place, and one error mapping that tells a definite refusal ("Stripe said no; nothing
// happened") from an ambiguous failure ("no answer; it may have happened"). Money paths must treat
// the two differently: see docs/decisions/0016.
package stripeapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Client is a lazily keyed stripe-go client.
type Client struct {
	key     func(context.Context) (string, error)
	base    string
	perTry  time.Duration
	retries int64

	mu  sync.Mutex
	api *client.API
}

// Open returns the process's Stripe client: the secret key from STRIPE_SECRET_KEY or its SSM
// parameter (read on first use), the API base from STRIPE_API_BASE (stripe-mock locally), and
// timeouts sized to the function's timeout.
func Open(rt *platform.Runtime) *Client {
	return platform.Shared(rt, "stripe", func() *Client {
		return newClient(func(ctx context.Context) (string, error) {
			key, err := rt.Secrets.Get(ctx, manifest.EnvStripeKey, manifest.EnvStripeKeyParam)
			if err == nil && rt.Config.StripeTestKeysOnly {
				err = TestKeyOnly(key)
			}
			return key, err
		}, rt.Config.StripeAPIBase, time.Duration(rt.Fn.Timeout())*time.Second)
	})
}

// TestKeyOnly refuses a key that is not a Stripe test-mode key (sk_test_…, rk_test_…): an
// environment that must stay in test mode (staging, STRIPE_TEST_KEYS_ONLY=1) answers 503 and logs
// the configuration error rather than create anything in live mode. The key is never quoted.
func TestKeyOnly(key string) error {
	if IsTestKey(key) {
		return nil
	}
	return errors.New("STRIPE_TEST_KEYS_ONLY is set and the Stripe key is not a test-mode key (sk_test_ or rk_test_)")
}

// IsTestKey reports a Stripe test-mode secret or restricted key.
func IsTestKey(key string) bool {
	return strings.HasPrefix(key, "sk_test_") || strings.HasPrefix(key, "rk_test_")
}

// New returns a client with a fixed key (tests, tools).
func New(key, apiBase string, fnTimeout time.Duration) *Client {
	return newClient(func(context.Context) (string, error) { return key, nil }, apiBase, fnTimeout)
}

// Budget returns the per-attempt HTTP timeout and the number of network retries for a function of
// the given timeout: two attempts of 40 % each plus stripe-go's back-off stay inside it, and the
// request's context deadline (the Lambda's) cuts any attempt short.
func Budget(fnTimeout time.Duration) (perTry time.Duration, retries int64) {
	perTry = fnTimeout * 2 / 5
	if perTry > 20*time.Second {
		perTry = 20 * time.Second
	}
	if perTry < time.Second {
		perTry = time.Second
	}
	return perTry, 1
}

func newClient(key func(context.Context) (string, error), base string, fnTimeout time.Duration) *Client {
	if fnTimeout <= 0 {
		fnTimeout = time.Duration(manifest.DefaultTimeoutSeconds) * time.Second
	}
	perTry, retries := Budget(fnTimeout)
	return &Client{key: key, base: base, perTry: perTry, retries: retries}
}

// API returns the stripe-go client, reading the key on first use. Every call made with it must set
// its params' context (Bind), so the request's deadline bounds it.
func (c *Client) API(ctx context.Context) (*client.API, error) {
	// The key is asked for at every use (platform.Secrets caches it), not only the first: the local
	// stack shares one client among all functions, and its IAM check must see each one's read.
	key, err := c.key(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "payment provider is not configured")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api != nil {
		return c.api, nil
	}
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: c.perTry},
		MaxNetworkRetries: stripe.Int64(c.retries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
	}
	if c.base != "" {
		cfg.URL = stripe.String(c.base)
	}
	c.api = client.New(key, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	})
	return c.api, nil
}

// Set replaces the stripe-go client (tests pointing at a fault-injecting proxy).
func (c *Client) Set(api *client.API) { c.mu.Lock(); c.api = api; c.mu.Unlock() }

// Bind sets the call's context and, for a POST, its idempotency key (empty for reads).
func Bind(ctx context.Context, p *stripe.Params, idempotencyKey string) {
	p.Context = ctx
	if idempotencyKey != "" {
		p.SetIdempotencyKey(idempotencyKey)
	}
}

// MaxKeyLength is Stripe's limit on idempotency keys.
const MaxKeyLength = 255

// Key builds the idempotency key of one of our operations: the operation kind and our own ids
// ("refund-rop_…", "customer-u1"). The same operation always gets the same key, so a retry — ours,
// stripe-go's or a caller's — cannot do it twice while Stripe remembers the key (≥ 24 h).
func Key(kind string, ids ...string) string {
	k := kind
	for _, id := range ids {
		k += "-" + id
	}
	if len(k) > MaxKeyLength {
		k = k[:MaxKeyLength]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '_'
		}
		return r
	}, k)
}
