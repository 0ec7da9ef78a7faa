package platform

import (
	"net/url"
	"strings"

	m "github.com/liberation/monetization/shared/manifest"
)

// Config is read from the environment. Local defaults live in infra/local (the dev stack), not here:
// in AWS a missing variable is an error at first use, never a silent default.
type Config struct {
	TableName       string
	BucketName      string
	PricePro        string
	PriceEnterprise string
	MailFrom        string
	// AppURL is where the web app lives (links in e-mails). It has a localhost default only when
	// Local is set; in AWS an unset APP_URL stays empty and code that needs it fails loudly.
	AppURL        string
	StripeAPIBase string // stripe-mock URL locally
	Region        string
	// Local is true under the local stack (LIBERATION_LOCAL=1): make dev, make test, the harness.
	Local bool
	// AppOrigins are the web app's origins ("https://app.example.com"): ALLOWED_ORIGINS plus the
	// origin of APP_URL. Redirect URLs handed to Stripe must be on one of them.
	AppOrigins []string
	// StripeTestKeysOnly refuses live Stripe keys (STRIPE_TEST_KEYS_ONLY=1; CDK env=staging).
	StripeTestKeysOnly bool
}

// LocalAppURL is the web app's address under the local stack when APP_URL is not set.
const LocalAppURL = "http://localhost:5173"

// ConfigFromEnv reads Config.
func ConfigFromEnv(getenv func(string) string) Config {
	cfg := Config{
		TableName:       getenv(m.EnvTable),
		BucketName:      getenv(m.EnvBucket),
		PricePro:        getenv(m.EnvPricePro),
		PriceEnterprise: getenv(m.EnvPriceEnterprise),
		MailFrom:        or(getenv(m.EnvMailFrom), "Liberation <receipts@liberation.local>"),
		AppURL:          getenv(m.EnvAppURL),
		StripeAPIBase:   getenv(m.EnvStripeAPIBase),
		Region:          or(getenv("AWS_REGION"), "us-east-1"),
		Local:           getenv(m.EnvLocal) == "1",
		// Staging's guard: a live key in its SSM parameter must fail loudly, never charge anyone.
		StripeTestKeysOnly: getenv(m.EnvStripeTestKeysOnly) == "1",
	}
	if cfg.AppURL == "" && cfg.Local {
		cfg.AppURL = LocalAppURL
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
