package rewardcatalog

import "testing"

func TestCatalogueIsTheIssues(t *testing.T) {
	want := map[string]struct {
		cost     int64
		f        Fulfilment
		shipping bool
	}{
		CourseCoupon:       {500, StripeCoupon, false},
		SubscriptionCredit: {1000, StripeCredit, false},
		Merchandise:        {2000, Manual, true},
	}
	all := All()
	if len(all) != len(want) {
		t.Fatalf("%d rewards", len(all))
	}
	for _, r := range all {
		w, ok := want[r.ID]
		if !ok || r.Cost != w.cost || r.Fulfilment != w.f || r.NeedsShipping != w.shipping || r.Name == "" || r.Description == "" {
			t.Errorf("%+v", r)
		}
	}
	if r, _ := ByID(CourseCoupon); r.PercentOff != 20 {
		t.Error("the coupon is 20% off")
	}
	if r, _ := ByID(SubscriptionCredit); r.CreditCents != 500 || r.Currency != "usd" {
		t.Error("the credit is $5.00")
	}
	if _, ok := ByID("gold-bar"); ok {
		t.Error("unknown reward found")
	}
}
