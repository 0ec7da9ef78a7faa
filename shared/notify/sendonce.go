package notify

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
)

// DedupeHeader carries the dedupe id on every e-mail (the same header payments' receipts carry).
const DedupeHeader = "X-Liberation-Dedupe"

// The e-mail claim: held at most claimFor (beyond any sender's timeout, so a crashed attempt is
// retried by a later run), remembered for remember (longer than any job re-run or retry).
const (
	scope     = "email"
	claimFor  = 60 * time.Second
	remember  = 400 * 24 * time.Hour
	completed = `{"sent":true}`
)

// Outcome of SendOnce.
type Outcome int

const (
	Sent        Outcome = iota // this call sent it
	AlreadySent                // an earlier call did
	InProgress                 // another call holds the claim now (an overlapping run): it sends
)

func (o Outcome) String() string {
	return [...]string{"sent", "already sent", "in progress elsewhere"}[o]
}

// SendOnce sends m unless an e-mail with dedupeID was sent (or is being sent) already. A failed send
// releases the claim so a retry can send; an overlapping claim is not an error (the holder sends).
func SendOnce(ctx context.Context, idem idempotency.Store, sender mail.Sender, dedupeID string, m mail.Message) (Outcome, error) {
	if dedupeID == "" {
		return 0, apperr.New(apperr.Internal, "e-mail without dedupe id")
	}
	log := logging.From(ctx)
	prior, err := idem.BeginIdempotent(ctx, scope, dedupeID, idempotency.Hash([]byte(dedupeID)), claimFor, remember)
	switch {
	case apperr.Is(err, apperr.Conflict):
		return InProgress, nil
	case err != nil:
		return 0, err
	case prior != nil:
		return AlreadySent, nil
	}
	if m.Headers == nil {
		m.Headers = map[string]string{}
	}
	m.Headers[DedupeHeader] = dedupeID
	if err := sender.Send(ctx, m); err != nil {
		if rErr := idem.ReleaseIdempotent(context.WithoutCancel(ctx), scope, dedupeID); rErr != nil {
			log.Error("e-mail claim not released", "dedupeId", dedupeID, "err", rErr.Error())
		}
		return 0, err
	}
	if err := idem.CompleteIdempotent(context.WithoutCancel(ctx), scope, dedupeID, 200, completed); err != nil {
		// The e-mail is out; only a retry after the claim expires could send it again. Log loudly.
		log.Error("e-mail sent but its record not completed", "dedupeId", dedupeID, "err", err.Error())
	}
	log.Info("e-mail sent", "dedupeId", dedupeID)
	return Sent, nil
}
