package main

import (
	"flag"
	"strings"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// marketplaceTriggerFlags adds the marketplace's options to `trigger`:
//
//	make trigger EVENT=checkout.session.completed SUB=learner-1 AMOUNT=999 ARGS="-course crs_…"
//	make trigger EVENT=account.updated SUB=instructor-1 ARGS="-account acct_…"
func marketplaceTriggerFlags(fs *flag.FlagSet, o *stripeevents.Options) {
	fs.Func("course", "course id: a course purchase (checkout in payment mode, metadata.courseId)", func(id string) error {
		if o.Metadata == nil {
			o.Metadata = map[string]string{}
		}
		for k, v := range stripeevents.CourseMetadata(strings.TrimSpace(id)) {
			o.Metadata[k] = v
		}
		if o.Mode == "" {
			o.Mode = "payment"
		}
		return nil
	})
	fs.StringVar(&o.AccountID, "account", "", "Connect account id (account.updated); POST /instructors/me/connect returns it")
	fs.BoolVar(&o.PayoutsDisabled, "payouts-disabled", false, "account.updated: the account cannot receive payouts yet")
	fs.StringVar(&o.PaymentIntentID, "payment-intent", "", "Stripe PaymentIntent id (refunds and disputes of a course purchase name it)")
	fs.StringVar(&o.SessionID, "session", "", "Checkout Session id (repeat one to test deduplication)")
}
