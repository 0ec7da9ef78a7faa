package tiers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/billing/tiers"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

var prices = tiers.Prices{Pro: "price_pro", Enterprise: "price_ent"}

// Each tier grants its own features and every lower tier's, ranked free < pro < enterprise.
func TestCatalogueIsCumulative(t *testing.T) {
	all := tiers.All()
	if len(all) != 3 || all[0].ID != tiers.Free || all[1].ID != tiers.Pro || all[2].ID != tiers.Enterprise {
		t.Fatalf("tiers %+v", all)
	}
	for i, want := range []int{4, 8, 13} {
		if all[i].Rank != i || len(all[i].Features) != want {
			t.Fatalf("%s: rank %d, %d features %v", all[i].ID, all[i].Rank, len(all[i].Features), all[i].Features)
		}
		if i > 0 {
			for _, f := range all[i-1].Features {
				if !all[i].Grants(f) {
					t.Fatalf("%s does not grant %s of %s", all[i].ID, f, all[i-1].ID)
				}
			}
		}
	}
	if all[0].Grants(tiers.FeatureProCourses) || !all[1].Grants(tiers.FeatureProCourses) || all[1].Grants(tiers.FeatureSSO) ||
		!all[2].Grants(tiers.FeatureSSO) {
		t.Fatal("features granted at the wrong tier")
	}
	if all[0].PriceCents != 0 || all[1].PriceCents != 999 || all[2].PriceCents != 9900 {
		t.Fatalf("prices %d %d %d", all[0].PriceCents, all[1].PriceCents, all[2].PriceCents)
	}
	// Callers get their own copy: changing one does not change the catalogue.
	all[0].Features[0] = "changed"
	if tiers.All()[0].Features[0] == "changed" {
		t.Fatal("All shares its feature lists")
	}
}

func TestLookups(t *testing.T) {
	if p, ok := tiers.ByID(tiers.Pro); !ok || p.Name != "Pro" || p.PriceID(prices) != "price_pro" || len(p.Features) != 8 {
		t.Fatalf("pro %+v %v", p, ok)
	}
	if f, ok := tiers.ByID(tiers.Free); !ok || f.PriceID(prices) != "" {
		t.Fatalf("free %+v %v", f, ok)
	}
	if _, ok := tiers.ByID("gold"); ok {
		t.Fatal("an unknown tier")
	}
	for price, want := range map[string]string{"price_pro": tiers.Pro, "price_ent": tiers.Enterprise, "price_other": "", "": ""} {
		got, ok := tiers.ByPrice(prices, price)
		if ok != (want != "") || got.ID != want {
			t.Fatalf("price %q: %q %v, want %q", price, got.ID, ok, want)
		}
	}
	// An unconfigured price never matches (an empty price id is nobody's).
	if got, ok := tiers.ByPrice(tiers.Prices{}, ""); ok {
		t.Fatalf("empty price matched %s", got.ID)
	}
	for _, f := range []string{tiers.FeatureCommunity, tiers.FeatureAIAssistant, tiers.FeatureUsageAnalytics} {
		if !tiers.KnownFeature(f) {
			t.Fatalf("%s unknown", f)
		}
	}
	if tiers.KnownFeature("teleportation") {
		t.Fatal("an unknown feature is known")
	}
}

// GET /tiers is public and cacheable: the catalogue with prices in cents, no Stripe price ids.
func TestListTiersRoute(t *testing.T) {
	h, err := tiers.NewListTiers(&platform.Runtime{Fn: manifest.MustByName("list-tiers")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-tiers"}})
	if err != nil || resp.StatusCode != http.StatusOK || resp.Headers["cache-control"] != "public, max-age=300" {
		t.Fatalf("%d %v %v", resp.StatusCode, resp.Headers, err)
	}
	var body struct {
		Tiers []map[string]any `json:"tiers"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("%s: %v", resp.Body, err)
	}
	if len(body.Tiers) != 3 {
		t.Fatalf("%s", resp.Body)
	}
	for i, want := range tiers.All() {
		got := body.Tiers[i]
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"currency", "features", "id", "interval", "name", "priceCents", "rank"}) ||
			got["id"] != want.ID || got["priceCents"] != float64(want.PriceCents) || len(got["features"].([]any)) != len(want.Features) {
			t.Fatalf("tier %d: %v", i, got)
		}
	}
}
