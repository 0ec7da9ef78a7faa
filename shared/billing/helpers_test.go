//go:build integration

package billing

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Integration tests: billing's DynamoDB repository against moto and its Stripe port against
// stripe-mock (through a recording transport), with the same handlers and job as in production.

type testEnv struct {
	*localtest.Env
	repo   dynamoRepo
	port   stripePort
	stripe *stripefake.Recorder
	set    Settings
	life   *lifecycle
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	env := localtest.New(t)
	rec := &stripefake.Recorder{}
	sc := stripeapi.New(localtest.StripeKey, "", 10*time.Second)
	sc.Set(stripefake.Client(localtest.StripeKey, os.Getenv(manifest.EnvStripeAPIBase), rec))
	set, err := settingsOf(env.Runtime)
	if err != nil {
		t.Fatal(err)
	}
	repo := dynamoRepo{env.Store()}
	return &testEnv{Env: env, repo: repo, port: stripePort{sc}, stripe: rec, set: set,
		life: &lifecycle{subs: repo, clock: env.Runtime.Clock, rules: set.Rules}}
}

// WithFakeClock gives the environment and billing one settable clock.
func (e *testEnv) WithFakeClock() *clock.Fake {
	f := e.Env.WithFakeClock()
	e.life.clock = f
	return f
}

func (e *testEnv) plan() planDeps { return planDeps{life: e.life, idem: e.repo, stripe: e.port} }

// seed stores a Stripe subscription state for a user as the webhook would.
func seed(t *testing.T, e *testEnv, typ string, o stripeevents.Options) Subscription {
	t.Helper()
	if o.Created.IsZero() {
		o.Created = e.life.clock.Now().Add(-time.Hour)
	}
	st, err := StateFromStripe(stripeSub(t, typ, o), e.set.Prices)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.life.syncFromStripe(context.Background(), o.UserID, st,
		Stamp{Created: o.Created.Unix(), ID: "evt_seed_" + typ + o.Created.String()}, audit.ActorStripe, "seed")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return res.Stored
}

func mustSub(t *testing.T, e *testEnv, userID string) Subscription {
	t.Helper()
	s, err := e.repo.GetSubscription(context.Background(), userID)
	if err != nil {
		t.Fatalf("read subscription of %s: %v", userID, err)
	}
	return s
}

func rawItem(t *testing.T, e *testEnv, k store.Key) map[string]types.AttributeValue {
	t.Helper()
	res, err := e.repo.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.repo.Table, Key: k.Item(),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Item
}

func gauges(t *testing.T, e *testEnv) map[string]int64 {
	t.Helper()
	return store.Numbers(rawItem(t, e, store.MetricsCurrentKey()))
}

// auditCount counts the audit records of a day with an action.
func auditCount(t *testing.T, e *testEnv, day time.Time, action string) int {
	t.Helper()
	return localtest.AuditCount(t, e.repo.Store, day, action)
}
