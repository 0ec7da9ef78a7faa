package platform

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
)

// MaxRedirectURLLength bounds the redirect URLs passed to Stripe (Checkout, the portal, Connect).
const MaxRedirectURLLength = 2048

// ValidRedirectURL is the shape every redirect URL a client sends must have: absolute, https (http
// only for a loopback host, for local development), no credentials, at most
// MaxRedirectURLLength long. field names it in the 400.
func ValidRedirectURL(field, raw string) error {
	if raw == "" {
		return apperr.New(apperr.Invalid, "%s is required", field)
	}
	if len(raw) > MaxRedirectURLLength {
		return apperr.New(apperr.Invalid, "%s must be at most %d characters", field, MaxRedirectURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return apperr.New(apperr.Invalid, "%s must be an absolute URL", field)
	}
	if u.User != nil {
		return apperr.New(apperr.Invalid, "%s must not contain credentials", field)
	}
	if u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	return apperr.New(apperr.Invalid, "%s must use https (http is allowed only for localhost)", field)
}

// RedirectField is one redirect URL of a request, named as the client sent it.
type RedirectField struct{ Name, URL string }

// OnAppOrigin refuses redirect URLs outside the web app's origins, so a Stripe-hosted page can
// only send a user back to us (no open redirect). The fields are checked in the order given, so the
// first one named in a 400 is always the same. Without APP_URL the function is misconfigured: a
// 500 whose log names the variable, never a guess such as localhost.
func OnAppOrigin(cfg Config, fields ...RedirectField) error {
	if cfg.AppURL == "" || len(cfg.AppOrigins) == 0 {
		return apperr.New(apperr.Internal, "configuration: %s is not set, so no redirect URL can be accepted; set it to the web app's URL",
			manifest.EnvAppURL)
	}
	for _, f := range fields {
		if !slices.Contains(cfg.AppOrigins, Origin(f.URL)) {
			return apperr.New(apperr.Invalid, "%s must be on the web app's origin (%s)", f.Name, strings.Join(cfg.AppOrigins, ", "))
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
