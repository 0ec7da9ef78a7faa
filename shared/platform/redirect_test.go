package platform

import (
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
)

// One validator for every redirect URL a client sends (billing's Checkout and portal, the
// marketplace's purchase and Connect onboarding): the same answers everywhere.
func TestRedirectURLs(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://app.example.com/ok", true}, {"http://localhost:5173/ok", true}, {"http://127.0.0.1/x", true},
		{"http://app.example.com/ok", false}, {"ftp://app.example.com", false}, {"/relative", false},
		{"https://user:pw@app.example.com", false}, {"", false}, {"https://a.example/" + strings.Repeat("x", MaxRedirectURLLength), false},
	} {
		if err := ValidRedirectURL("successUrl", tc.url); (err == nil) != tc.ok || err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Errorf("ValidRedirectURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
	cfg := Config{AppURL: "https://app.example.com", AppOrigins: []string{"https://app.example.com"}}
	if err := OnAppOrigin(cfg, RedirectField{"successUrl", "https://app.example.com/a"}, RedirectField{"cancelUrl", "https://app.example.com/b"}); err != nil {
		t.Fatal(err)
	}
	// Both off origin: the first field is the one named, every time.
	for i := 0; i < 20; i++ {
		err := OnAppOrigin(cfg, RedirectField{"successUrl", "https://evil.example/a"}, RedirectField{"cancelUrl", "https://evil.example/b"})
		if !apperr.Is(err, apperr.Invalid) || !strings.HasPrefix(err.Error(), "invalid: successUrl") && !strings.Contains(err.Error(), "successUrl must") {
			t.Fatalf("off-origin redirects: %v", err)
		}
	}
	// Without APP_URL: a configuration error (500), in every area alike.
	if err := OnAppOrigin(Config{}, RedirectField{"returnUrl", "https://app.example.com"}); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("without APP_URL: %v", err)
	}
}
