package records

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Records is billing's user, customer and subscription records as every area reaches them: a user's
// subscription item and profile (the Stripe customer), and the one customer link they may make. A
// leaf package of billing (like billing/tiers), so that an area reading them links none of billing's
// rules, Stripe port or hooks (decision 0075). This is the only file of the package with SDK inputs.
type Records struct{ S *store.Store }

// GetSubscription reads a user's subscription item with a strongly consistent read. A user who
// never had one gets apperr.NotFound.
func (r Records) GetSubscription(ctx context.Context, userID string) (Subscription, error) {
	var sub Subscription
	err := r.S.GetConsistent(ctx, store.SubscriptionKey(userID), &sub)
	return sub, err
}

// SubscriptionByStripeID finds the subscription item for a Stripe subscription id (GSI1; eventually
// consistent). NotFound if unknown.
func (r Records) SubscriptionByStripeID(ctx context.Context, subID string) (Subscription, error) {
	g1, g1s := store.StripeSubscriptionGSI1(subID)
	return store.QueryIndexOne[Subscription](ctx, r.S, manifest.GSI1, g1, g1s, "unknown Stripe subscription")
}

// GetUser reads a user's profile (apperr.NotFound if the user never touched billing).
func (r Records) GetUser(ctx context.Context, userID string) (User, error) {
	var u User
	err := r.S.Get(ctx, store.UserKey(userID), &u)
	return u, err
}

// LinkStripeCustomer records the user's Stripe customer once. If the user already has one, the
// existing id wins and is returned (so two racing checkouts end with one customer on file).
func (r Records) LinkStripeCustomer(ctx context.Context, userID, email, customerID string) (string, error) {
	k := store.UserKey(userID)
	g1, g1s := store.StripeCustomerGSI1(customerID)
	var out User
	err := r.S.Update(ctx, &dynamodb.UpdateItemInput{
		Key: k.Item(),
		UpdateExpression: aws.String("SET #t = :t, userId = :u, stripeCustomerId = :c, GSI1PK = :g1, GSI1SK = :g1s, " +
			"createdAt = if_not_exists(createdAt, :now), email = :e"),
		ConditionExpression:      aws.String("attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :c"),
		ExpressionAttributeNames: map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": store.S("user"), ":u": store.S(userID), ":c": store.S(customerID), ":g1": store.S(g1), ":g1s": store.S(g1s),
			":now": store.S(r.S.Clock.Now().Format(time.RFC3339Nano)), ":e": store.S(email),
		},
	}, &out)
	if store.IsConditionFailed(err) {
		existing, gErr := r.GetUser(ctx, userID)
		if gErr != nil {
			return "", gErr
		}
		return existing.StripeCustomerID, nil
	}
	if err != nil {
		return "", err
	}
	return out.StripeCustomerID, nil
}

// UserIDByStripeCustomer finds our user for a Stripe customer id (GSI1). NotFound if unknown.
func (r Records) UserIDByStripeCustomer(ctx context.Context, customerID string) (string, error) {
	if customerID == "" {
		return "", apperr.New(apperr.NotFound, "no customer id")
	}
	g1, g1s := store.StripeCustomerGSI1(customerID)
	u, err := store.QueryIndexOne[User](ctx, r.S, manifest.GSI1, g1, g1s, "unknown Stripe customer")
	return u.UserID, err
}

// ResolveStripeUser ties a Stripe object to our user: the first non-empty candidate (our
// metadata.userId or client_reference_id, which every object we create carries), else the user
// linked to the Stripe customer, else the owner of the Stripe subscription. "" when none is known.
func (r Records) ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if c != "" {
			return c, nil
		}
	}
	if customerID != "" {
		id, err := r.UserIDByStripeCustomer(ctx, customerID)
		if err == nil || !apperr.Is(err, apperr.NotFound) {
			return id, err
		}
	}
	if subscriptionID != "" {
		sub, err := r.SubscriptionByStripeID(ctx, subscriptionID)
		if err == nil || !apperr.Is(err, apperr.NotFound) {
			return sub.UserID, err
		}
	}
	return "", nil
}
