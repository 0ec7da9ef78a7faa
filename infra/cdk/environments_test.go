package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	m "github.com/liberation/monetization/shared/manifest"
)

// stagingContext is what `npx cdk deploy -c env=staging …` passes (docs/operations.md): cdk.json's
// defaults overridden by the staging web app's https origin and Stripe test-mode price ids.
func stagingContext(assets string) map[string]any {
	return map[string]any{"env": "staging", "assetDir": assets, "consoleDir": consoleFixture, "allowedOrigins": "https://staging.example.com",
		"appURL": "https://staging.example.com", "mailFrom": "receipts@example.com",
		"stripePricePro": "price_1TestPro", "stripePriceEnterprise": "price_1TestEnt"}
}

// TestStagingConfig: staging is a third environment with its own parameter paths, checked like prod
// (https origins and app, real price ids), never reading prod's secrets; a dev or prod config does
// not turn the live-key guard on.
func TestStagingConfig(t *testing.T) {
	get := func(over map[string]string) func(string) string {
		base := map[string]string{"env": "staging", "allowedOrigins": "https://staging.example.com",
			"appURL": "https://staging.example.com", "mailFrom": "r@example.com",
			"stripePricePro": "price_1", "stripePriceEnterprise": "price_2"}
		return func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return base[k]
		}
	}
	c, err := ConfigFromContext(get(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.StackName() != "Monetization-staging" || c.stripeKeyParam() != "/monetization/staging/stripe-secret-key" ||
		c.webhookSecretParam() != "/monetization/staging/stripe-webhook-secret" || !c.StripeTestKeysOnly() || c.Prod() {
		t.Errorf("staging: stack %s, key %s, webhook %s, testKeysOnly %v, prod %v", c.StackName(), c.stripeKeyParam(),
			c.webhookSecretParam(), c.StripeTestKeysOnly(), c.Prod())
	}
	for _, env := range []string{"dev", "prod"} {
		c, err := ConfigFromContext(get(map[string]string{"env": env}))
		if err != nil {
			t.Fatal(err)
		}
		if c.StripeTestKeysOnly() || c.StackName() != "Monetization-"+env {
			t.Errorf("%s: testKeysOnly %v, stack %s", env, c.StripeTestKeysOnly(), c.StackName())
		}
	}
	for name, tc := range map[string]struct {
		over map[string]string
		want string
	}{
		"HTTPOrigin":      {map[string]string{"allowedOrigins": "http://localhost:5173"}, "staging origin"},
		"LocalhostAppURL": {map[string]string{"appURL": "http://localhost:5173"}, "staging appURL"},
		"PlaceholderPrice": {map[string]string{"stripePricePro": "price_pro_placeholder"},
			"staging needs real Stripe price ids"},
		"ProdSecrets":      {map[string]string{"paramPrefix": "/monetization/prod"}, "must not read prod's secrets"},
		"ProdSecretsSlash": {map[string]string{"paramPrefix": "/monetization/prod/"}, "must not read prod's secrets"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ConfigFromContext(get(tc.over)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestStagingStack synthesizes what `cdk synth -c env=staging` builds (main → buildApp): the stack
// Monetization-staging whose Stripe functions carry STRIPE_TEST_KEYS_ONLY=1 and read staging's
// parameters, with dev's removal policy (disposable: test-mode data only); dev and prod functions
// never carry the guard.
func TestStagingStack(t *testing.T) {
	assets := placeholderAssets(t)
	defer os.RemoveAll(assets)
	ctx := stagingContext(assets)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	stack, err := buildApp(app)
	if err != nil {
		t.Fatal(err)
	}
	if got := *stack.StackName(); got != "Monetization-staging" {
		t.Errorf("stack name %s", got)
	}
	raw, err := json.Marshal(flatten(t, stack))
	if err != nil {
		t.Fatal(err)
	}
	var c cfn
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	stripeFns := 0
	for _, f := range m.Functions {
		vars := c.Resources[f.LogicalID()].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		if got, want := vars[m.EnvStripeTestKeysOnly], map[bool]any{true: "1", false: nil}[f.Stripe]; got != want {
			t.Errorf("%s: %s = %v, want %v", f.Name, m.EnvStripeTestKeysOnly, got, want)
		}
		if f.Stripe {
			stripeFns++
			if vars[m.EnvStripeKeyParam] != "/monetization/staging/stripe-secret-key" {
				t.Errorf("%s: key parameter %v", f.Name, vars[m.EnvStripeKeyParam])
			}
		}
	}
	if stripeFns == 0 {
		t.Fatal("no function calls Stripe: the guard was checked on nothing")
	}
	table := c.Resources[m.TableLogicalName]
	if table.DeletionPolicy != "Delete" || table.Properties["DeletionProtection"] == true {
		t.Errorf("staging table: DeletionPolicy %s, DeletionProtection %v; want dev's (disposable)",
			table.DeletionPolicy, table.Properties["DeletionProtection"])
	}
	for _, env := range []string{"dev", "prod"} {
		other, _ := synth(t, env)
		for _, f := range m.Functions {
			vars := other.Resources[f.LogicalID()].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			if v, ok := vars[m.EnvStripeTestKeysOnly]; ok {
				t.Errorf("%s: %s has %s=%v", env, f.Name, m.EnvStripeTestKeysOnly, v)
			}
		}
	}
}
