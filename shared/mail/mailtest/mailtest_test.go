package mailtest

import (
	"context"
	"errors"
	"testing"

	"github.com/liberation/monetization/shared/mail"
)

func TestRecorder(t *testing.T) {
	var r Recorder
	ok := mail.Message{From: "a@example.com", To: "b@example.com", Subject: "Hi", Text: "Hello"}
	if err := r.Send(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), mail.Message{To: "b@example.com"}); err == nil {
		t.Fatal("an invalid message was accepted")
	}
	r.Fail = errors.New("down")
	if err := r.Send(context.Background(), ok); err == nil {
		t.Fatal("Fail did not fail the send")
	}
	if len(r.Sent()) != 1 || len(r.To("b@example.com")) != 1 || len(r.To("c@example.com")) != 0 {
		t.Fatalf("recorded %+v", r.Sent())
	}
}
