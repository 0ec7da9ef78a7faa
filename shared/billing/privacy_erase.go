package billing

import (
	"context"
	"sort"
	"strings"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// ActionEraseCustomer is the audit action of a billing profile erased (its Stripe side ended).
const ActionEraseCustomer = "customer.erased"

// ErasePersonalDataHooks registers billing's eraser with the erasure host (docs/privacy.md,
// decision 0087).
func ErasePersonalDataHooks(rt *platform.Runtime, r *privacy.Registry) error {
	s := store.Open(rt)
	var port stripePort // without Stripe in the host's manifest entry, every call fails naming the field
	if rt.Fn.Stripe {
		port.c = stripeapi.Open(rt)
	}
	r.RegisterEraser("billing", PersonalDataEraser(privacy.Reader{S: s}, dynamoRepo{s}, port, rt.Clock))
	return nil
}

// PersonalDataEraser erases billing's data about a person, in one step:
//
//   - at Stripe, every live subscription of theirs is cancelled at once and their customer deleted
//     (Stripe removes the customer's personal data and keeps its charges and invoices), each call
//     with an Idempotency-Key derived from the request id, a "resource_missing" answer counting as
//     done. The local subscription status is NOT changed here: Stripe's
//     customer.subscription.deleted event converges it through the webhook, as for any
//     cancellation (one writer of subscription state, the ordering watermark intact).
//   - then the profile (USER#/PROFILE) gets the pseudonym's address and erasedAs, with its audit
//     record, in one transaction conditioned on the profile as read.
//
// Stripe goes first so that an erasure interrupted in between finds the profile not yet erased and
// does the calls again (each is idempotent); a profile already erased is left alone (no call, no
// change). The subscription and other-subscription items hold no personal values (Stripe ids,
// statuses, dates) and are needed (the gauges, the billing-cycle job, the webhook), so they stay.
// A person with no profile but a subscription item (records older than the profile) gets the
// cancellation and the deletion of the subscription's customer, and no table change.
func PersonalDataEraser(rd privacy.Reader, repo profiles, st stripeEraser, clk clock.Clock) privacy.Eraser {
	e := &billingEraser{rd: rd, repo: repo, stripe: st, clock: clk}
	// One row stands for the person: the step reads what it needs itself.
	person := func(s privacy.ErasureSubject) privacy.Source {
		return privacy.Source{Type: "customer", Fetch: func(context.Context, string, int) ([]map[string]any, string, error) {
			return []map[string]any{{"userId": s.UserID}}, "", nil
		}}
	}
	return privacy.Phases(privacy.EachRow(person, e.erase))
}

type billingEraser struct {
	rd     privacy.Reader
	repo   profiles
	stripe stripeEraser
	clock  clock.Clock
}

func (e *billingEraser) erase(ctx context.Context, s privacy.ErasureSubject, _ map[string]any) (privacy.RowResult, error) {
	var out privacy.RowResult
	err := store.RetryOnConflict(ctx, "erase the billing profile", func() error {
		out = privacy.RowResult{}
		profile, found, err := e.rd.Get(ctx, store.UserKey(s.UserID))
		if err != nil {
			return err
		}
		if found && privacy.Str(profile, "erasedAs") != "" {
			return nil // erased before: nothing more to do here or at Stripe
		}
		cancelled, subCustomer, err := e.cancelLive(ctx, s)
		if err != nil {
			return err
		}
		// The profile's customer and the subscription's (the same one but for records made before
		// the profile existed), each deleted once.
		customer := privacy.Str(profile, "stripeCustomerId")
		customers := []string{customer}
		if subCustomer != customer {
			customers = append(customers, subCustomer)
		}
		var deleted []string
		for _, c := range customers {
			if c == "" {
				continue
			}
			if err := e.stripe.DeleteCustomer(ctx, c, stripeapi.Key("erase-customer", s.RequestID, c)); err != nil && !missing(err) {
				return err
			}
			deleted = append(deleted, c)
		}
		if !found {
			return nil
		}
		details := map[string]string{}
		if len(deleted) > 0 {
			details["stripeCustomers"] = strings.Join(deleted, ",")
		}
		if len(cancelled) > 0 {
			details["cancelledSubscriptions"] = strings.Join(cancelled, ",")
		}
		at := e.clock.Now().UTC()
		if err := e.repo.EraseProfile(ctx, profileErasure{UserID: s.UserID, ReadEmail: privacy.Str(profile, "email"),
			ReadCustomer: customer, Pseudonym: s.Pseudonym, PseudonymEmail: s.PseudonymEmail(), At: at,
			Audit: audit.Entry{Actor: privacy.ActorErasure, Action: ActionEraseCustomer, Target: s.PseudonymTarget(),
				RequestID: s.RequestID, Details: details}}); err != nil {
			return err
		}
		out.Changed = true
		return nil
	})
	return out, err
}

// subscriptionEnded reports a Stripe subscription status after which nothing is billed any more.
func subscriptionEnded(status string) bool {
	switch stripe.SubscriptionStatus(status) {
	case stripe.SubscriptionStatusCanceled, stripe.SubscriptionStatusIncompleteExpired:
		return true
	}
	return false
}

// cancelLive cancels at Stripe the person's subscription while it is live, and every open
// other-subscription record's (a second live subscription seen for them), returning their ids and
// the subscription item's Stripe customer ("" when none).
func (e *billingEraser) cancelLive(ctx context.Context, s privacy.ErasureSubject) ([]string, string, error) {
	live := map[string]bool{}
	sub, err := e.repo.GetSubscription(ctx, s.UserID)
	switch {
	case err == nil:
		if sub.StripeSubscriptionID != "" && sub.Status != "" && !subscriptionEnded(sub.Status) {
			live[sub.StripeSubscriptionID] = true
		}
	case !apperr.Is(err, apperr.NotFound):
		return nil, "", err
	}
	others, err := e.rd.All(ctx, store.UserPK(s.UserID), store.OtherSubscriptionPrefix)
	if err != nil {
		return nil, "", err
	}
	for _, o := range others {
		// Open records carry GSI2's keys (the open list); resolving one removes them.
		if id := privacy.Str(o, "stripeSubscriptionId"); id != "" && privacy.Str(o, "GSI2PK") != "" {
			live[id] = true
		}
	}
	ids := make([]string, 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := e.cancel(ctx, s, id); err != nil {
			return nil, "", err
		}
	}
	return ids, sub.StripeCustomerID, nil
}

// cancel ends one subscription at Stripe. Gone ("resource_missing") is done; any other definite
// refusal is done too when Stripe says the subscription has already ended (a cancelled
// subscription cannot be cancelled again).
func (e *billingEraser) cancel(ctx context.Context, s privacy.ErasureSubject, id string) error {
	err := e.stripe.CancelSubscriptionNow(ctx, id, stripeapi.Key("erase-subscription", s.RequestID, id))
	if err == nil || missing(err) {
		return nil
	}
	if stripeapi.KindOf(err) != stripeapi.Definite {
		return err
	}
	cur, gErr := e.stripe.GetSubscription(ctx, id)
	if missing(gErr) || (gErr == nil && subscriptionEnded(string(cur.Status))) {
		return nil
	}
	return err
}

// missing reports Stripe's "no such object": what a deletion repeated after it was done meets.
func missing(err error) bool {
	f := stripeapi.Classify(err)
	return f != nil && f.Kind == stripeapi.Definite && f.Code == string(stripe.ErrorCodeResourceMissing)
}
