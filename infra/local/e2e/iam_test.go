//go:build integration

package e2e

// Issue 16: the local stack enforces each function's IAM policy (infra/local/iamcheck,
// docs/decisions/0076). A call outside a function's grant fails through the real frame — gateway,
// invoke (Lambda context), the shared DynamoDB client — with the AccessDenied AWS would return.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

func TestLocalIAMDeniesACallOutsideTheGrant(t *testing.T) {
	// list-support-tickets' manifest entry grants GetItem and Query on the table, not PutItem.
	fn := manifest.MustByName("list-support-tickets")
	for _, a := range fn.Table {
		if a == manifest.PutItem {
			t.Fatalf("%s is granted PutItem: pick a function without it", fn.Name)
		}
	}
	var env *localtest.Env
	var mu sync.Mutex
	var putErr, getErr error
	item := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "IAMTEST#" + t.Name()},
		"SK": &types.AttributeValueMemberS{Value: "X"}}
	handler := httpapi.Route(fn, func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		s := env.Store() // the same shared client every function of the process uses
		_, perr := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item})
		_, gerr := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: item})
		mu.Lock()
		putErr, getErr = perr, gerr
		mu.Unlock()
		if perr != nil {
			return httpapi.Response{}, apperr.Wrap(perr, apperr.Unavailable, "write")
		}
		return httpapi.JSON(http.StatusOK, map[string]string{}), nil
	})
	h := Start(t, WithFunctions(), WithHandler(fn, handler),
		WithSetup(func(_ testing.TB, e *localtest.Env) { env = e }))

	h.Call(t, http.MethodGet, "/support/tickets", h.Token(t, "iam-u1", "iam-u1@example.com"), nil, http.StatusServiceUnavailable, nil)
	mu.Lock()
	defer mu.Unlock()
	var api smithy.APIError
	if !errors.As(putErr, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("PutItem by %s: %v, want AccessDeniedException", fn.Name, putErr)
	}
	for _, want := range []string{fn.Name, "dynamodb:PutItem", "table/" + env.Store().Table} {
		if !strings.Contains(api.ErrorMessage(), want) {
			t.Errorf("AccessDenied message %q does not name %q", api.ErrorMessage(), want)
		}
	}
	if getErr != nil {
		t.Errorf("GetItem, which %s is granted, failed: %v", fn.Name, getErr)
	}
	// The write never reached moto; outside a function's invocation (test set-up) it is not checked.
	var got map[string]any
	if err := env.Store().GetConsistent(context.Background(), store.Key{PK: "IAMTEST#" + t.Name(), SK: "X"}, &got); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("the denied item exists (%v)", err)
	}
	if _, err := env.Store().DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &env.Store().Table, Item: item}); err != nil {
		t.Errorf("the same PutItem outside an invocation: %v", err)
	}
}

// The defect the review found: list-support-queue writes the agent's record (seeAgent) but its
// role granted no PutItem, so in AWS the write failed (a warning) and agents were never recorded.
// Under the enforced local stack the same happens here unless the manifest grants it.
func TestListSupportQueueRecordsTheAgent(t *testing.T) {
	h := Start(t, WithFunctions(manifest.MustByName("list-support-queue")))
	sub := "iam-agent-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	h.Call(t, http.MethodGet, "/support/queue", h.Token(t, sub, sub+"@support.example.com", manifest.GroupSupport), nil, http.StatusOK, nil)
	var a map[string]any
	if err := h.Env.Store().GetConsistent(context.Background(), store.SupportAgentKey(sub), &a); err != nil {
		t.Fatalf("the agent's record was not written by list-support-queue: %v", err)
	}
	if a["email"] != sub+"@support.example.com" {
		t.Errorf("agent record %v", a)
	}
}
