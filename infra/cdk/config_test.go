package main

import (
	"strings"
	"testing"
)

func TestConfigFromContext(t *testing.T) {
	base := map[string]string{
		"allowedOrigins": "https://app.example.com, https://admin.example.com", "mailFrom": "r@example.com",
		"stripePricePro": "price_1", "stripePriceEnterprise": "price_2", "appURL": "https://app.example.com",
	}
	get := func(over map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return base[k]
		}
	}
	t.Run("OK", func(t *testing.T) {
		c, err := ConfigFromContext(get(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Env != "dev" || c.ParamPrefix != "/monetization/dev" || len(c.AllowedOrigins) != 2 ||
			c.AssetDir != "../../build" || c.supportEmail() != "r@example.com" || c.licenseKeyParam() != "/monetization/dev/license-signing-key" {
			t.Errorf("defaults: %+v", c)
		}
	})
	for name, tc := range map[string]struct {
		over map[string]string
		want string
	}{
		"ErrEnv":            {map[string]string{"env": "qa"}, "dev, staging or prod"},
		"ErrOriginWildcard": {map[string]string{"allowedOrigins": "*"}, "explicit"},
		"ErrNoOrigins":      {map[string]string{"allowedOrigins": ""}, "allowedOrigins"},
		"ErrNoPrice":        {map[string]string{"stripePricePro": ""}, "stripePricePro"},
		"ErrParamPrefix":    {map[string]string{"paramPrefix": "monetization"}, "start with /"},
		"ErrProdHTTP":       {map[string]string{"env": "prod", "allowedOrigins": "http://localhost:5173"}, "https"},
		"ErrProdPrice":      {map[string]string{"env": "prod", "stripePricePro": "price_pro_placeholder"}, "real Stripe"},
		"ErrNoAppURL":       {map[string]string{"appURL": ""}, "appURL is required"},
		"ErrSupportEmail":   {map[string]string{"supportEmail": "Support <s@example.com>"}, "bare e-mail"},
		// cdk.json's dev default (localhost) must never reach production.
		"ErrProdLocalhostAppURL": {map[string]string{"env": "prod", "appURL": "http://localhost:5173"}, "public https URL"},
		"ErrProdLoopbackAppURL":  {map[string]string{"env": "prod", "appURL": "https://127.0.0.1:8443"}, "public https URL"},
		"ErrPastDueGraceDays":    {map[string]string{"pastDueGraceDays": "3d"}, "pastDueGraceDays"},
		"ErrPastDueGraceTooLong": {map[string]string{"pastDueGraceDays": "31"}, "from 0 to 30"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ConfigFromContext(get(tc.over))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
