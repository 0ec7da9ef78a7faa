package manifest

// The single DynamoDB table. Generic key names; what they hold is documented in docs/data-model.md
// and built only by shared/store/keys.go.
const (
	TableLogicalName = "Table"
	AttrPK           = "PK"
	AttrSK           = "SK"
	AttrTTL          = "expiresAt" // epoch seconds; DynamoDB TTL deletes the item some time after
)

// Index is a global secondary index with a string partition and sort key, projecting all attributes.
type Index struct {
	Name string
	PK   string
	SK   string
}

// The table's GSIs, by name (never by position).
var (
	// GSI1: lookups by an external id (Stripe customer/subscription/charge id → our item).
	GSI1 = Index{Name: "GSI1", PK: "GSI1PK", SK: "GSI1SK"}
	// GSI2: lists across users by state and time (e.g. subscriptions by status, for jobs).
	GSI2 = Index{Name: "GSI2", PK: "GSI2PK", SK: "GSI2SK"}
)

// Indexes are the table's GSIs.
var Indexes = []Index{GSI1, GSI2}

// Environment variable names shared by the stack, template.yaml and the local gateway.
const (
	EnvTable            = "TABLE_NAME"
	EnvBucket           = "BUCKET_NAME"
	EnvStripeKey        = "STRIPE_SECRET_KEY"       // local/dev: the key itself
	EnvStripeKeyParam   = "STRIPE_SECRET_KEY_PARAM" // AWS: SSM SecureString name holding the key
	EnvWebhookSecret    = "STRIPE_WEBHOOK_SECRET"
	EnvWebhookParam     = "STRIPE_WEBHOOK_SECRET_PARAM"
	EnvStripeAPIBase    = "STRIPE_API_BASE" // stripe-mock locally; unset in AWS
	EnvPricePro         = "STRIPE_PRICE_PRO"
	EnvPriceEnterprise  = "STRIPE_PRICE_ENTERPRISE"
	EnvMailFrom         = "MAIL_FROM"
	EnvMailTransport    = "MAIL_TRANSPORT" // "ses" (AWS) or "smtp" (local)
	EnvSMTPAddr         = "SMTP_ADDR"
	EnvCursorSecret     = "CURSOR_SECRET"
	EnvCursorSecretName = "CURSOR_SECRET_PARAM"
	EnvFunctionName     = "FUNCTION_NAME" // our manifest name (AWS sets AWS_LAMBDA_FUNCTION_NAME to the physical one)
	EnvAppURL           = "APP_URL"       // where the web app lives (links in e-mails)
	// EnvLocal is "1" under the local stack (make dev, make test); it enables local-only defaults
	// such as a localhost APP_URL. Never set in AWS.
	EnvLocal = "LIBERATION_LOCAL"
	// EnvLicenseKey holds the Ed25519 license-signing key (PKCS#8 PEM) locally; in AWS
	// EnvLicenseKeyParam names the SSM SecureString holding it (docs/decisions/0050).
	EnvLicenseKey      = "LICENSE_SIGNING_KEY"
	EnvLicenseKeyParam = "LICENSE_SIGNING_KEY_PARAM"
	// EnvSupportEmail is the support agents' shared address: SLA warnings for unassigned tickets,
	// escalations, and requesters' replies on unassigned tickets go there.
	EnvSupportEmail = "SUPPORT_AGENTS_EMAIL"
	// EnvAllowedOrigins lists the web app's origins (comma-separated): CORS, and the only places
	// Checkout and the Customer Portal may send a user back to.
	EnvAllowedOrigins = "ALLOWED_ORIGINS"
	// EnvPayoutMinimum is the smallest instructor payout in cents (DefaultPayoutMinimumCents when
	// unset); smaller available balances are carried to the next run.
	EnvPayoutMinimum = "PAYOUT_MINIMUM_CENTS"
	// EnvPastDueGraceDays is how many days past its paid-through date a past_due subscription keeps
	// its tier (billing; optional, default 3).
	EnvPastDueGraceDays = "PAST_DUE_GRACE_DAYS"
	// EnvStripeTestKeysOnly is "1" in environments that must never hold a live Stripe key (CDK
	// env=staging): the Stripe client refuses any key but sk_test_/rk_test_ (shared/stripeapi).
	EnvStripeTestKeysOnly = "STRIPE_TEST_KEYS_ONLY"
)

// DefaultPayoutMinimumCents is the payout minimum when PAYOUT_MINIMUM_CENTS is not set.
const DefaultPayoutMinimumCents = 5000
