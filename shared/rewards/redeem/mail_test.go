package redeem

import (
	"regexp"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/licensing"

	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

var brand = licensing.PlatformBranding()

const (
	mailFrom = "rewards@liberation.local"
	appURL   = "https://app.example.com"
)

func TestMessagesPerStatus(t *testing.T) {
	base := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D0Z", RewardName: "20% off a course", Cost: 500,
		Fulfilment: rewardcatalog.StripeCoupon, CouponCode: "LIB20-2M9QXA4D0Z"}
	for status, want := range map[rewards.Status][]string{
		rewards.Approved:  {"Your reward is approved: 20% off a course", "is approved", "delivering it now"},
		rewards.Fulfilled: {"Your reward is here: 20% off a course", "LIB20-2M9QXA4D0Z", "only for your account"},
		rewards.Rejected:  {"Your reward request was not approved", "500 tokens are back"},
	} {
		red := base
		red.Status = status
		m, ok := Message(brand, mailFrom, appURL, red, "lin@example.com")
		if !ok || m.To != "lin@example.com" || m.From != `"Liberation" <rewards@liberation.local>` || m.Validate() != nil {
			t.Fatalf("%s: %+v", status, m)
		}
		if m.Subject != want[0] {
			t.Errorf("%s: subject %q", status, m.Subject)
		}
		for _, w := range want[1:] {
			if !strings.Contains(m.Text, w) || !strings.Contains(m.HTML, strings.ReplaceAll(w, "%", "%")) {
				t.Errorf("%s: %q missing from text or HTML", status, w)
			}
		}
		if !strings.Contains(m.HTML, `href="https://app.example.com/rewards"`) {
			t.Errorf("%s: no link to the rewards page", status)
		}
	}
	for _, s := range []rewards.Status{rewards.Pending, rewards.Cancelled} {
		if _, ok := Message(brand, mailFrom, appURL, rewards.Redemption{Status: s}, "x@example.com"); ok {
			t.Errorf("%s: no e-mail expected", s)
		}
	}
}

func TestMessageEscapesEveryValue(t *testing.T) {
	red := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D0Z", RewardName: "Liberation merchandise pack", Cost: 2000,
		Fulfilment: rewardcatalog.Manual, Status: rewards.Rejected, Reason: `<script>alert("x")</script> & "quotes"`}
	m, _ := Message(brand, mailFrom, appURL, red, "lin@example.com")
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;") {
		t.Fatalf("reason not escaped: %s", m.HTML)
	}
	if !strings.Contains(m.Text, `<script>alert("x")</script>`) {
		t.Error("the text part carries the reason as written")
	}
	red.Status, red.Note = rewards.Fulfilled, "UPS 1Z999<b>"
	m, _ = Message(brand, mailFrom, appURL, red, "lin@example.com")
	if !strings.Contains(m.HTML, "UPS 1Z999&lt;b&gt;") {
		t.Errorf("note not escaped: %s", m.HTML)
	}
}

// A coupon code is drawn at random when the redemption is approved: nothing the learner sees (the
// redemption id is in every answer and e-mail) tells it. It keeps the shape the marketplace accepts.
func TestCouponCodesAreUnguessable(t *testing.T) {
	shape := regexp.MustCompile(`^LIB20-[0-9A-HJKMNP-TV-Z]{10}$`)
	red := rewards.Redemption{ID: "rdm_01JE0A2B3C4D5E7K2M9QXA4D0Z"}
	seen := map[string]bool{}
	for range 2000 {
		c := NewCouponCode()
		if !shape.MatchString(c) || seen[c] || strings.Contains(red.ID, c[6:]) {
			t.Fatalf("code %q (seen before: %v)", c, seen[c])
		}
		seen[c] = true
	}
	// Coupons approved before keep the id they were created with at Stripe.
	if legacyCouponCode(red) != "LIB20-2M9QXA4D0Z" || couponID(red) != "LIB20-2M9QXA4D0Z" {
		t.Fatalf("legacy code %s", legacyCouponCode(red))
	}
	red.CouponCode = "LIB20-7K3M9Q2X4D"
	if couponID(red) != red.CouponCode {
		t.Fatal("a drawn code is the coupon's id")
	}
	if EmailDedupeID(rewards.Redemption{ID: "rdm_x", Status: rewards.Fulfilled}) != "redemption#rdm_x#fulfilled" {
		t.Fatal("e-mail ids are derived from the redemption and its status")
	}
}
