//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/rewards"
)

// Helpers of the rewards end-to-end tests.

// rwSend puts a message on a manifest queue, as its producer (or EventBridge's rule) would.
func rwSend(t *testing.T, h *Harness, q, typ, dedupeID string, payload any) {
	t.Helper()
	body, err := queue.Envelope(typ, dedupeID, payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(h.Env.Resources.QueueURLs[q]), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
}

// rwLearning puts a learning event on the learning-events queue in the envelope the EventBridge
// rule's input transformer produces.
func rwLearning(t *testing.T, h *Harness, typ, eventID, user, course, lesson string, at time.Time) {
	t.Helper()
	rwSend(t, h, manifest.LearningEventsQueue, typ, eventID, rewards.LearningEvent{EventID: eventID, Time: at,
		Source: rewards.LearningSource, Detail: rewards.LearningDetail{UserID: user, CourseID: course, LessonID: lesson}})
}

// rwGet calls a GET route and decodes its JSON answer, failing unless the status is want.
func rwGet(t *testing.T, h *Harness, path, token string, want int, out any) {
	t.Helper()
	h.Call(t, http.MethodGet, path, token, nil, want, out)
}

func rwBalance(t *testing.T, h *Harness, token string) rewards.BalanceView {
	t.Helper()
	var b rewards.BalanceView
	rwGet(t, h, "/tokens", token, http.StatusOK, &b)
	return b
}

func rwTransactions(t *testing.T, h *Harness, token string) []rewards.EntryView {
	t.Helper()
	var page struct {
		Transactions []rewards.EntryView `json:"transactions"`
	}
	rwGet(t, h, "/tokens/transactions?limit=100", token, http.StatusOK, &page)
	return page.Transactions
}

var rwKeys int

// rwGrant gives a user tokens through the admin adjustment route.
func rwGrant(t *testing.T, h *Harness, admin, user string, n int64) {
	t.Helper()
	rwKeys++
	h.Call(t, http.MethodPost, "/admin/tokens/adjustments", admin, map[string]any{"userId": user, "amount": n, "reason": "end-to-end test"}, http.StatusCreated, nil, map[string]string{"Idempotency-Key": fmt.Sprintf("grant-%s-%d", user, rwKeys)})
}

// rwUser is a unique user id for one test run.
func rwUser(name string) string { return name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) }

// rwRelease runs the release job now and returns its report.
func rwRelease(t *testing.T, h *Harness) rewards.ReleaseReport {
	t.Helper()
	var rep rewards.ReleaseReport
	res := h.RunJob(t, "release-pending-tokens")
	if err := json.Unmarshal(res.Result, &rep); err != nil {
		t.Fatalf("release report %s: %v", res.Result, err)
	}
	return rep
}
