//go:build integration

package e2e

// GET /admin/queues (shared/ops) through the local gateway on a fresh stack: every manifest queue
// reported, healthy while the DLQs are empty; a message put in one DLQ makes that queue and the
// report unhealthy; a user gets 403. The local IAM check authorises each GetQueueAttributes on the
// queue's or DLQ's ARN, and every grant of list-queues is used (usesCoverGrants).

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/ops"
)

func TestQueuesRouteReportsDeadLetters(t *testing.T) {
	h := Start(t)
	admin := h.Token(t, "queues-admin", "ops@example.com", "admin")
	var rep ops.Report
	h.Call(t, http.MethodGet, "/admin/queues", admin, nil, http.StatusOK, &rep)
	if !rep.Healthy || len(rep.Queues) != len(manifest.Queues) {
		t.Fatalf("fresh stack: %+v, want %d healthy queues", rep, len(manifest.Queues))
	}
	for i, q := range manifest.Queues {
		if g := rep.Queues[i]; g.Name != q.Name || !g.Healthy || g.DeadLetters != 0 {
			t.Errorf("queue %d: %+v, want %s healthy", i, g, q.Name)
		}
	}

	// A message that failed every delivery, as SQS's redrive would leave it.
	dead := manifest.Queues[len(manifest.Queues)-1]
	for range 2 {
		if _, err := h.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(h.Env.Resources.DLQURLs[dead.Name]), MessageBody: aws.String(`{"type":"dead"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	h.Call(t, http.MethodGet, "/admin/queues", admin, nil, http.StatusOK, &rep)
	if rep.Healthy {
		t.Fatalf("healthy with 2 messages in %s: %+v", dead.DLQName(), rep)
	}
	for _, g := range rep.Queues {
		want := ops.QueueHealth{Name: g.Name, Healthy: true}
		if g.Name == dead.Name {
			want = ops.QueueHealth{Name: g.Name, DeadLetters: 2}
		}
		if g.DeadLetters != want.DeadLetters || g.Healthy != want.Healthy {
			t.Errorf("%s: %+v, want %d dead letters, healthy %v", g.Name, g, want.DeadLetters, want.Healthy)
		}
	}

	h.Call(t, http.MethodGet, "/admin/queues", h.Token(t, "queues-user", "u@example.com"), nil, http.StatusForbidden, nil)
	usesCoverGrants(t, "list-queues", "sqs:GetQueueAttributes")
}
