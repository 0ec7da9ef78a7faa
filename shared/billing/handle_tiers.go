package billing

import (
	"context"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// HandleListTiers serves GET /tiers (public).
func HandleListTiers(fn manifest.Function, _ *platform.Deps) httpapi.Lambda {
	body := map[string]any{"tiers": Tiers()}
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		resp := httpapi.OK(body)
		resp.Headers = map[string]string{"cache-control": "public, max-age=300"}
		return resp, nil
	})
}
