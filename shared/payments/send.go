package payments

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/receipts"
)

// DedupeHeader carries the dedupe id on every e-mail (find it in mailpit and in SES logs).
const DedupeHeader = "X-Liberation-Dedupe"

// E-mail idempotency: a send is claimed for at most emailInFlight (beyond the consumer's timeout,
// so a crashed attempt can be retried) and remembered for emailTTL (longer than Stripe retries or
// a manual event resend), so one dedupe id gives one e-mail.
const (
	emailScope    = "email"
	emailInFlight = 60 * time.Second
	emailTTL      = 400 * 24 * time.Hour
)

// Mailer is the receipts-queue consumer's part for payments: receipts (HTML, text and the receipt
// PDF), refund notices (with their credit-note PDF) and dunning e-mails, one e-mail per dedupe id.
type Mailer struct {
	Source ReceiptSource
	Claims idempotency.Store // e-mail dedupe (store.Store in production)
	Docs   Documents
	Mail   mail.Sender
	From   string
	Brands Brander  // nil: the platform's branding
	Render Renderer // draws receipts and credit notes as PDFs
}

// brand is the branding and From header of what userID receives.
func (m *Mailer) brand(ctx context.Context, userID string) (receipts.Branding, string, error) {
	if m.Brands == nil {
		return platformBrand{}.BrandFor(ctx, userID, m.From)
	}
	return m.Brands.BrandFor(ctx, userID, m.From)
}

// Handle processes one receipts-queue message.
func (m *Mailer) Handle(ctx context.Context, msg queue.Message) error {
	switch msg.Type {
	case MsgReceipt, MsgRefundReceipt:
		var job ReceiptJob
		if err := json.Unmarshal(msg.Payload, &job); err != nil || job.UserID == "" || job.PaymentID == "" {
			logging.From(ctx).Error("dropping receipt message without user or payment")
			return nil // retrying cannot fix it
		}
		if msg.Type == MsgRefundReceipt && job.RefundID == "" {
			logging.From(ctx).Error("dropping refund notice without refund id")
			return nil
		}
		return m.sendOnce(ctx, msg.DedupeID, func() (mail.Message, error) { return m.receiptMessage(ctx, job) })
	case MsgDunning:
		var job DunningJob
		if err := json.Unmarshal(msg.Payload, &job); err != nil || job.UserID == "" || job.InvoiceID == "" {
			logging.From(ctx).Error("dropping dunning message without user or invoice")
			return nil
		}
		return m.sendOnce(ctx, msg.DedupeID, func() (mail.Message, error) { return m.dunningMessage(ctx, job) })
	default:
		logging.From(ctx).Warn("ignoring message of unknown type")
		return nil
	}
}

// sendOnce sends the message built by build unless an e-mail with this dedupe id was already sent.
// The claim is released on failure so the SQS retry can send; a claim held by a concurrent attempt
// fails this message for a later retry, which then finds the send completed.
func (m *Mailer) sendOnce(ctx context.Context, dedupeID string, build func() (mail.Message, error)) error {
	if dedupeID == "" {
		return apperr.New(apperr.Invalid, "message has no dedupe id")
	}
	log := logging.From(ctx)
	prior, err := m.Claims.BeginIdempotent(ctx, emailScope, dedupeID, idempotency.Hash([]byte(dedupeID)), emailInFlight, emailTTL)
	if err != nil {
		return err
	}
	if prior != nil {
		log.Info("e-mail already sent; skipping")
		return nil
	}
	msg, err := build()
	if errors.Is(err, errErasedRecipient) {
		// Nothing to send, ever: the claim is completed so that a retry does not try again.
		if cErr := m.Claims.CompleteIdempotent(context.WithoutCancel(ctx), emailScope, dedupeID, 200, `{"sent":false}`); cErr != nil {
			return cErr
		}
		log.Info("recipient erased; e-mail not sent")
		return nil
	}
	if err == nil {
		if msg.Headers == nil {
			msg.Headers = map[string]string{}
		}
		msg.Headers[DedupeHeader] = dedupeID
		err = m.Mail.Send(ctx, msg)
	}
	if err != nil {
		if rErr := m.Claims.ReleaseIdempotent(context.WithoutCancel(ctx), emailScope, dedupeID); rErr != nil {
			log.Error("e-mail claim not released", "err", rErr.Error())
		}
		return err
	}
	if cErr := m.Claims.CompleteIdempotent(context.WithoutCancel(ctx), emailScope, dedupeID, 200, `{"sent":true}`); cErr != nil {
		// The e-mail is out; a retry after the claim expires could send it again. Log loudly.
		log.Error("e-mail sent but its record not completed", "err", cErr.Error())
	}
	log.Info("e-mail sent")
	return nil
}

// errErasedRecipient: the person was erased (privacy_erase.go); their records name the pseudonym's
// address, which no mail may go to (".invalid" bounces).
var errErasedRecipient = errors.New("the recipient was erased")

func (m *Mailer) recipient(ctx context.Context, userID, snapshot string) (string, error) {
	email := snapshot
	if email == "" {
		var err error
		if email, err = m.Source.UserEmail(ctx, userID); err != nil {
			return "", err
		}
	}
	if email == "" {
		return "", apperr.New(apperr.Unprocessable, "user %s has no e-mail address", userID)
	}
	if privacy.IsErasedEmail(email) {
		return "", errErasedRecipient
	}
	return email, nil
}

// receiptMessage renders a receipt with its PDF, or a refund notice with its credit note, storing
// the document first (once: see storeOnce).
func (m *Mailer) receiptMessage(ctx context.Context, job ReceiptJob) (mail.Message, error) {
	p, err := m.Source.GetPayment(ctx, job.UserID, job.PaymentID)
	if err != nil {
		return mail.Message{}, err
	}
	to, err := m.recipient(ctx, p.UserID, p.CustomerEmail)
	if err != nil {
		return mail.Message{}, err
	}
	brand, from, err := m.brand(ctx, p.UserID)
	if err != nil {
		return mail.Message{}, err
	}
	rc := receiptOf(p, to, brand)
	var doc document
	var e receipts.Email
	if job.RefundID == "" {
		if doc, err = receiptDocument(m.Render, rc, p); err != nil {
			return mail.Message{}, err
		}
		if err := m.storeOnce(ctx, doc); err != nil {
			return mail.Message{}, err
		}
		if p.ReceiptKey != doc.Key {
			if err := m.Source.SetReceiptKey(ctx, p.UserID, p.ID, doc.Key); err != nil {
				return mail.Message{}, err
			}
		}
		e, err = receipts.ReceiptEmail(rc)
	} else {
		ref, rErr := m.Source.Refund(ctx, p.UserID, p.ID, job.RefundID)
		if rErr != nil {
			return mail.Message{}, rErr
		}
		if doc, err = creditNoteDocument(m.Render, rc, p, ref); err != nil {
			return mail.Message{}, err
		}
		if err := m.storeOnce(ctx, doc); err != nil {
			return mail.Message{}, err
		}
		shown := rc
		shown.RefundedCents = p.RefundedCents // the e-mail shows the refunded total to date
		e, err = receipts.RefundEmail(receipts.Refund{Receipt: shown, RefundID: ref.ID, AmountCents: ref.AmountCents, Date: ref.CreatedAt})
	}
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{
		From: from, To: to, Subject: e.Subject, Text: e.Text, HTML: e.HTML,
		Attachments: []mail.Attachment{{Filename: doc.Filename, ContentType: "application/pdf", Data: doc.PDF}},
	}, nil
}

// storeOnce writes a document unless it is already stored. Documents are deterministic (the same
// payment or refund renders the same bytes) and a receipt or credit note never changes after it is
// issued, so the first write stands and no later render overwrites it.
func (m *Mailer) storeOnce(ctx context.Context, doc document) error {
	exists, err := m.Docs.Exists(ctx, doc.Key)
	if err != nil || exists {
		return err
	}
	return m.Docs.Put(ctx, doc.object(), doc.PDF)
}

func (m *Mailer) dunningMessage(ctx context.Context, job DunningJob) (mail.Message, error) {
	to, err := m.recipient(ctx, job.UserID, job.Email)
	if err != nil {
		return mail.Message{}, err
	}
	brand, from, err := m.brand(ctx, job.UserID)
	if err != nil {
		return mail.Message{}, err
	}
	e, err := receipts.DunningEmail(receipts.Dunning{
		Branding: brand, InvoiceNumber: job.InvoiceNumber, AmountCents: job.AmountCents,
		Currency: job.Currency, Attempt: job.Attempt, NextAttempt: job.NextAttemptAt,
		PayURL: job.HostedInvoiceURL, UpdateURL: job.UpdatePaymentURL,
	})
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{From: from, To: to, Subject: e.Subject, Text: e.Text, HTML: e.HTML}, nil
}
