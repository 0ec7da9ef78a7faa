package stripeapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/stripeapi"
)

// TestStagingRefusesLiveKeys: with STRIPE_TEST_KEYS_ONLY=1 (what CDK sets for env=staging) the
// client refuses a live key before any call, as a 503-class error that does not quote the key;
// test keys pass, and without the flag (dev, prod) a live key is used as before.
func TestStagingRefusesLiveKeys(t *testing.T) {
	fn := manifest.Function{Name: "create-checkout"}
	for _, tc := range []struct {
		key, only string
		refused   bool
	}{
		{"sk_live_abc123", "1", true},
		{"rk_live_abc123", "1", true},
		{"pk_test_abc123", "1", true}, // a publishable key is no secret key either
		{"sk_test_abc123", "1", false},
		{"rk_test_abc123", "1", false},
		{"sk_live_abc123", "", false}, // prod: unchanged
	} {
		env := map[string]string{manifest.EnvStripeKey: tc.key, manifest.EnvStripeTestKeysOnly: tc.only,
			manifest.EnvStripeAPIBase: "http://127.0.0.1:1"}
		rt, err := platform.New(context.Background(), fn, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		_, err = stripeapi.Open(rt).API(context.Background())
		if got := err != nil; got != tc.refused {
			t.Errorf("key %s, STRIPE_TEST_KEYS_ONLY=%q: err = %v, want refused=%v", tc.key[:8], tc.only, err, tc.refused)
			continue
		}
		if err == nil {
			continue
		}
		if !apperr.Is(err, apperr.Unavailable) {
			t.Errorf("key %s: error kind = %v, want Unavailable (503)", tc.key[:8], err)
		}
		if strings.Contains(err.Error(), tc.key) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}
