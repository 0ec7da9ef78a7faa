package main

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// Config is what varies between environments. main.go fills it from CDK context (-c key=value or
// cdk.json); tests build it directly.
type Config struct {
	Env string // "dev", "staging" or "prod" (Envs)
	// AssetDir holds <function-name>/bootstrap for every function (`make build` writes ../../build).
	AssetDir string
	// AllowedOrigins are the browser origins the HTTP API and the bucket answer CORS for. Never "*".
	AllowedOrigins []string
	MailFrom       string
	AppURL         string
	// Stripe price ids for the paid tiers (not secrets).
	PricePro        string
	PriceEnterprise string
	// ParamPrefix is where the SSM SecureStrings live: <prefix>/stripe-secret-key,
	// <prefix>/stripe-webhook-secret, <prefix>/cursor-secret. They are created outside
	// CloudFormation (which cannot create SecureStrings).
	ParamPrefix string
	// AlarmEmail, if set, is subscribed to the alarm topic.
	AlarmEmail string
	// PayoutMinimumCents is the smallest instructor payout (PAYOUT_MINIMUM_CENTS); default 5000.
	PayoutMinimumCents string
	// PastDueGraceDays, if set, is PAST_DUE_GRACE_DAYS for the functions (whole days 0–30); unset,
	// billing uses its default of 3.
	PastDueGraceDays string
	// SupportEmail is the support team's address (SLA warnings on unassigned tickets, escalations,
	// customer replies); default: the address of MailFrom.
	SupportEmail string
	// ConsoleDir is the operator console's build output (`make console`); default DefaultConsoleDir.
	ConsoleDir string
	// ConsoleAuthDomain is the hosted UI's Cognito domain prefix (<prefix>.auth.<region>.amazoncognito.com);
	// default monetization-<env>-<account id> (console.go).
	ConsoleAuthDomain string
}

// Envs are the environments a stack can be synthesized for (-c env=…); each is its own stack
// (Monetization-<env>) with its own table, bucket, user pool and SSM parameters (/monetization/<env>).
var Envs = []string{"dev", "staging", "prod"}

// Prod reports whether this is the production environment (data is retained on delete).
func (c Config) Prod() bool { return c.Env == "prod" }

// Staging reports the pre-production environment: deployed like prod (public https origins, real
// Stripe price ids) but in Stripe test mode only, and disposable like dev (docs/decisions/0089).
func (c Config) Staging() bool { return c.Env == "staging" }

// StripeTestKeysOnly reports an environment whose functions refuse live Stripe keys
// (STRIPE_TEST_KEYS_ONLY=1, checked by shared/stripeapi when the key is first read).
func (c Config) StripeTestKeysOnly() bool { return c.Staging() }

// StackName is the CloudFormation stack of the environment.
func (c Config) StackName() string { return "Monetization-" + c.Env }

// ConfigFromContext reads Config through get (the app node's TryGetContext).
func ConfigFromContext(get func(key string) string) (Config, error) {
	c := Config{
		Env:                or(get("env"), "dev"),
		AssetDir:           or(get("assetDir"), "../../build"),
		AllowedOrigins:     split(get("allowedOrigins")),
		MailFrom:           get("mailFrom"),
		AppURL:             get("appURL"),
		PricePro:           get("stripePricePro"),
		PriceEnterprise:    get("stripePriceEnterprise"),
		ParamPrefix:        get("paramPrefix"),
		AlarmEmail:         get("alarmEmail"),
		PastDueGraceDays:   get("pastDueGraceDays"),
		SupportEmail:       get("supportEmail"),
		ConsoleDir:         or(get("consoleDir"), DefaultConsoleDir),
		ConsoleAuthDomain:  get("consoleAuthDomain"),
		PayoutMinimumCents: or(get("payoutMinimumCents"), strconv.Itoa(m.DefaultPayoutMinimumCents)),
	}
	if c.ParamPrefix == "" {
		c.ParamPrefix = "/monetization/" + c.Env
	}
	return c, c.Validate()
}

// Validate rejects configurations that would deploy something unsafe or broken.
func (c Config) Validate() error {
	if !slices.Contains(Envs, c.Env) {
		return fmt.Errorf("context env must be dev, staging or prod, got %q", c.Env)
	}
	if len(c.AllowedOrigins) == 0 {
		return fmt.Errorf("context allowedOrigins is empty: list the web app's origins")
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" || !strings.HasPrefix(o, "http") {
			return fmt.Errorf("allowed origin %q must be an explicit http(s) origin", o)
		}
	}
	if c.MailFrom == "" || c.PricePro == "" || c.PriceEnterprise == "" {
		return fmt.Errorf("context mailFrom, stripePricePro and stripePriceEnterprise are required")
	}
	if c.AppURL == "" {
		return fmt.Errorf("context appURL is required: the web app's URL, used in e-mail links and as an allowed redirect origin")
	}
	// Staging is checked as prod is: it serves a deployed web app and creates real (test-mode)
	// Checkout Sessions, which need the test-mode price ids.
	if c.Prod() || c.Staging() {
		for _, o := range c.AllowedOrigins {
			if !strings.HasPrefix(o, "https://") {
				return fmt.Errorf("%s origin %q must be https (pass -c allowedOrigins=...)", c.Env, o)
			}
		}
		if !strings.HasPrefix(c.AppURL, "https://") || isLocalhost(c.AppURL) {
			return fmt.Errorf("%s appURL %q must be the web app's public https URL (pass -c appURL=https://...)", c.Env, c.AppURL)
		}
		if strings.Contains(c.PricePro+c.PriceEnterprise, "placeholder") {
			return fmt.Errorf("%s needs real Stripe price ids (-c stripePricePro=... -c stripePriceEnterprise=...)", c.Env)
		}
	}
	if c.Staging() && strings.TrimSuffix(c.ParamPrefix, "/") == "/monetization/prod" {
		return fmt.Errorf("staging must not read prod's secrets (paramPrefix %s)", c.ParamPrefix)
	}
	if c.PastDueGraceDays != "" {
		if n, err := strconv.Atoi(c.PastDueGraceDays); err != nil || n < 0 || n > 30 {
			return fmt.Errorf("context pastDueGraceDays %q must be a whole number of days from 0 to 30", c.PastDueGraceDays)
		}
	}
	if n, err := strconv.ParseInt(c.payoutMinimum(), 10, 64); err != nil || n < 1 {
		return fmt.Errorf("payoutMinimumCents %q must be a positive whole number of cents", c.PayoutMinimumCents)
	}
	if c.SupportEmail != "" {
		if a, err := mail.ParseAddress(c.SupportEmail); err != nil || a.Address != c.SupportEmail {
			return fmt.Errorf("supportEmail %q must be a bare e-mail address", c.SupportEmail)
		}
	}
	if !strings.HasPrefix(c.ParamPrefix, "/") {
		return fmt.Errorf("paramPrefix %q must start with /", c.ParamPrefix)
	}
	if c.ConsoleAuthDomain != "" {
		if err := validConsoleAuthDomain(c.ConsoleAuthDomain); err != nil {
			return err
		}
	}
	return nil
}

// consoleDir is ConsoleDir or its default.
func (c Config) consoleDir() string { return or(c.ConsoleDir, DefaultConsoleDir) }

// consoleAuthDomain is the hosted UI's domain prefix: the configured one, else one derived from the
// environment and the account, lowercase and unique in the region (a prefix is global to a region).
func (c Config) consoleAuthDomain(stack awscdk.Stack) *string {
	if c.ConsoleAuthDomain != "" {
		return jsii.String(c.ConsoleAuthDomain)
	}
	return jsii.String("monetization-" + c.Env + "-" + *stack.Account())
}

func (c Config) payoutMinimum() string {
	return or(c.PayoutMinimumCents, strconv.Itoa(m.DefaultPayoutMinimumCents))
}

// setting is the value of a configuration variable a function lists in its manifest Env.
func (c Config) setting(env string) string {
	switch env {
	case m.EnvPayoutMinimum:
		return c.payoutMinimum()
	}
	panic("cdk: no setting for " + env)
}

// Param names of the SSM SecureStrings.
func (c Config) stripeKeyParam() string     { return c.ParamPrefix + "/stripe-secret-key" }
func (c Config) webhookSecretParam() string { return c.ParamPrefix + "/stripe-webhook-secret" }
func (c Config) cursorSecretParam() string  { return c.ParamPrefix + "/cursor-secret" }

// licenseKeyParam holds the Ed25519 license-signing key (PKCS#8 PEM); see
// docs/runbooks/rotate-license-signing-key.md.
func (c Config) licenseKeyParam() string { return c.ParamPrefix + "/license-signing-key" }

// supportEmail is SupportEmail, else MailFrom's address.
func (c Config) supportEmail() string {
	if c.SupportEmail != "" {
		return c.SupportEmail
	}
	return c.mailFromAddress()
}

// mailFromAddress is MailFrom's address without a display name ("Acme <r@x>" → "r@x"): the SES
// identity the functions send as (their policies name it and its domain).
func (c Config) mailFromAddress() string {
	if a, err := mail.ParseAddress(c.MailFrom); err == nil {
		return a.Address
	}
	return c.MailFrom
}

// isLocalhost reports a URL on a loopback host.
func isLocalhost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return true
	}
	h := strings.ToLower(u.Hostname())
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasPrefix(h, "127.") || h == "::1"
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func split(csv string) []string {
	var out []string
	for _, s := range strings.Split(csv, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
