package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
)

// User is a user's profile item: who they are to Stripe.
type User struct {
	PK               string    `dynamodbav:"PK"`
	SK               string    `dynamodbav:"SK"`
	GSI1PK           string    `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK           string    `dynamodbav:"GSI1SK,omitempty"`
	Type             string    `dynamodbav:"type"`
	UserID           string    `dynamodbav:"userId"`
	Email            string    `dynamodbav:"email,omitempty"`
	StripeCustomerID string    `dynamodbav:"stripeCustomerId,omitempty"`
	CreatedAt        time.Time `dynamodbav:"createdAt"`
}

// GetUser reads a user's profile (apperr.NotFound if the user never touched billing).
func (s *Store) GetUser(ctx context.Context, userID string) (User, error) {
	var u User
	err := s.Get(ctx, UserKey(userID), &u)
	return u, err
}

// LinkStripeCustomer records the user's Stripe customer once. If the user already has one, the
// existing id wins and is returned (so two racing checkouts end with one customer on file).
func (s *Store) LinkStripeCustomer(ctx context.Context, userID, email, customerID string) (string, error) {
	k := UserKey(userID)
	g1, g1s := StripeCustomerGSI1(customerID)
	var out User
	err := s.Update(ctx, &dynamodb.UpdateItemInput{
		Key: k.Item(),
		UpdateExpression: aws.String("SET #t = :t, userId = :u, stripeCustomerId = :c, GSI1PK = :g1, GSI1SK = :g1s, " +
			"createdAt = if_not_exists(createdAt, :now), email = :e"),
		ConditionExpression:      aws.String("attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :c"),
		ExpressionAttributeNames: map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": av("user"), ":u": av(userID), ":c": av(customerID), ":g1": av(g1), ":g1s": av(g1s),
			":now": av(s.Clock.Now().Format(time.RFC3339Nano)), ":e": av(email),
		},
	}, &out)
	if IsConditionFailed(err) {
		existing, gErr := s.GetUser(ctx, userID)
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
func (s *Store) UserIDByStripeCustomer(ctx context.Context, customerID string) (string, error) {
	if customerID == "" {
		return "", apperr.New(apperr.NotFound, "no customer id")
	}
	g1, g1s := StripeCustomerGSI1(customerID)
	u, err := QueryIndexOne[User](ctx, s, manifest.GSI1, g1, g1s, "unknown Stripe customer")
	return u.UserID, err
}

func av(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// S is a string attribute value (for expression values built outside this package).
func S(s string) types.AttributeValue { return av(s) }

// N is a number attribute value.
func N(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: itoa(n)}
}

// ResolveStripeUser ties a Stripe object to our user: the first non-empty candidate (our
// metadata.userId or client_reference_id, which every object we create carries), else the user
// linked to the Stripe customer, else the owner of the Stripe subscription. "" when none is known.
func (s *Store) ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if c != "" {
			return c, nil
		}
	}
	if customerID != "" {
		id, err := s.UserIDByStripeCustomer(ctx, customerID)
		if err == nil || !apperr.Is(err, apperr.NotFound) {
			return id, err
		}
	}
	if subscriptionID != "" {
		sub, err := s.SubscriptionByStripeID(ctx, subscriptionID)
		if err == nil || !apperr.Is(err, apperr.NotFound) {
			return sub.UserID, err
		}
	}
	return "", nil
}
