package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/rewards"
)

func TestEmitMessages(t *testing.T) {
	at := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	q, typ, dedupe, p, err := emitMessage(emitOptions{Event: "lesson.completed", User: "alice", Course: "spanish", ID: "evt-1", At: at})
	ev, _ := p.(rewards.LearningEvent)
	if err != nil || q != "learning-events" || typ != "lesson.completed" || dedupe != "evt-1" || ev.EventID != "evt-1" ||
		ev.Source != rewards.LearningSource || !ev.Time.Equal(at) || ev.Detail != (rewards.LearningDetail{UserID: "alice", CourseID: "spanish", LessonID: "les-evt-1"}) {
		t.Fatalf("lesson: %s %s %s %+v %v", q, typ, dedupe, p, err)
	}
	// Replaying an ID replays the same lesson; without an ID every emit is a new event.
	_, _, _, p2, _ := emitMessage(emitOptions{Event: "lesson.completed", User: "alice", Course: "spanish", ID: "evt-1", At: at})
	_, _, d3, p3, _ := emitMessage(emitOptions{Event: "lesson.completed", User: "alice", Course: "spanish", At: at})
	if p2 != p || d3 == "evt-1" || p3.(rewards.LearningEvent).Detail.LessonID == "les-evt-1" {
		t.Fatalf("replay %+v, fresh %s %+v", p2, d3, p3)
	}
	q, typ, dedupe, p, err = emitMessage(emitOptions{Event: "course.purchased", User: "alice", Course: "spanish", ID: "pur-1", At: at})
	f, _ := p.(facts.CoursePurchasedFact)
	if err != nil || q != "facts" || typ != facts.CoursePurchased || dedupe != "course.purchased:pur-1" || f.AmountCents != 4900 ||
		!f.RefundWindowEndsAt.Equal(at.Add(30*24*time.Hour)) {
		t.Fatalf("purchase: %s %s %s %+v %v", q, typ, dedupe, p, err)
	}
	for _, bad := range []emitOptions{{Event: "lesson.started", User: "a", Course: "c"}, {Event: "lesson.completed", Course: "c"},
		{Event: "course.completed", User: "a"}} {
		if _, _, _, _, err := emitMessage(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

type fakeSQS struct {
	queueName string
	sent      []string
}

func (f *fakeSQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.queueName = aws.ToString(in.QueueName)
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("http://moto/123/" + f.queueName)}, nil
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.sent = append(f.sent, aws.ToString(in.MessageBody))
	return &sqs.SendMessageOutput{}, nil
}

// emit sends the envelope the consumers read to the dev stack's queue.
func TestEmitSendsToTheDevQueue(t *testing.T) {
	fake := &fakeSQS{}
	orig := newSQS
	newSQS = func(func(string) string) (sqsSender, error) { return fake, nil }
	t.Cleanup(func() { newSQS = orig })
	code, stdout, stderr := runCLI(t, env(EnvStateDir, t.TempDir()), "emit", "-event", "course.completed", "-user", "bob", "-course", "c1", "-id", "e-9")
	if code != 0 || !strings.HasPrefix(stdout, "sent course.completed to learning-events\n") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if fake.queueName != "liberation-dev-learning-events" || len(fake.sent) != 1 {
		t.Fatalf("queue %q, sent %v", fake.queueName, fake.sent)
	}
	var msg queue.Message
	var ev rewards.LearningEvent
	if err := json.Unmarshal([]byte(fake.sent[0]), &msg); err != nil || json.Unmarshal(msg.Payload, &ev) != nil ||
		msg.Type != "course.completed" || msg.DedupeID != "e-9" || ev.Detail.UserID != "bob" || ev.Detail.CourseID != "c1" {
		t.Fatalf("message %s", fake.sent[0])
	}
	if code, _, stderr := runCLI(t, env(EnvStateDir, t.TempDir()), "emit", "-event", "nope", "-user", "bob"); code != 1 || !strings.Contains(stderr, "unknown -event") {
		t.Fatalf("unknown event: %d %s", code, stderr)
	}
}
