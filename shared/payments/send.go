package payments

import (
	"context"
	"encoding/json"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/receipts"
	"github.com/liberation/monetization/shared/store"
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

// ReceiptObjectKey is where a payment's receipt PDF lives in the bucket.
func ReceiptObjectKey(userID, paymentID string) string {
	return "receipts/" + userID + "/" + paymentID + ".pdf"
}

// SendReceiptsHooks registers payments' messages with the receipts-queue consumer (send-receipts):
// receipts (HTML, text and PDF; the PDF stored in S3 and attached), refund notices and dunning
// e-mails, exactly one e-mail per dedupe id.
func SendReceiptsHooks(rt *platform.Runtime, r *queue.Router) error {
	d, err := NewDeps(rt)
	if err != nil {
		return err
	}
	h := func(ctx context.Context, msg queue.Message) error { return HandleMessage(ctx, d, msg) }
	for _, t := range []string{MsgReceipt, MsgRefundReceipt, MsgDunning} {
		r.On(t, h)
	}
	return nil
}

// HandleMessage processes one receipts-queue message.
func HandleMessage(ctx context.Context, d *Deps, msg queue.Message) error {
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
		return sendOnce(ctx, d, msg.DedupeID, func() (mail.Message, error) { return receiptMessage(ctx, d, job) })
	case MsgDunning:
		var job DunningJob
		if err := json.Unmarshal(msg.Payload, &job); err != nil || job.UserID == "" || job.InvoiceID == "" {
			logging.From(ctx).Error("dropping dunning message without user or invoice")
			return nil
		}
		return sendOnce(ctx, d, msg.DedupeID, func() (mail.Message, error) { return dunningMessage(ctx, d, job) })
	default:
		logging.From(ctx).Warn("ignoring message of unknown type")
		return nil
	}
}

// sendOnce sends the message built by build unless an e-mail with this dedupe id was already sent.
// The claim is released on failure so the SQS retry can send; a claim held by a concurrent attempt
// fails this message for a later retry, which then finds the send completed.
func sendOnce(ctx context.Context, d *Deps, dedupeID string, build func() (mail.Message, error)) error {
	if dedupeID == "" {
		return apperr.New(apperr.Invalid, "message has no dedupe id")
	}
	log := logging.From(ctx)
	prior, err := d.Store.BeginIdempotent(ctx, emailScope, dedupeID, idempotency.Hash([]byte(dedupeID)), emailInFlight, emailTTL)
	if err != nil {
		return err
	}
	if prior != nil {
		log.Info("e-mail already sent; skipping")
		return nil
	}
	m, err := build()
	if err == nil {
		if m.Headers == nil {
			m.Headers = map[string]string{}
		}
		m.Headers[DedupeHeader] = dedupeID
		err = d.Mail.Send(ctx, m)
	}
	if err != nil {
		if rErr := d.Store.ReleaseIdempotent(context.WithoutCancel(ctx), emailScope, dedupeID); rErr != nil {
			log.Error("e-mail claim not released", "err", rErr.Error())
		}
		return err
	}
	if cErr := d.Store.CompleteIdempotent(context.WithoutCancel(ctx), emailScope, dedupeID, 200, `{"sent":true}`); cErr != nil {
		// The e-mail is out; a retry after the claim expires could send it again. Log loudly.
		log.Error("e-mail sent but its record not completed", "err", cErr.Error())
	}
	log.Info("e-mail sent")
	return nil
}

// brandingFor returns the branding of a user's receipts. Enterprise white-label settings plug in
// here (the license of the user's organisation); until then everyone gets the platform's.
func brandingFor(context.Context, *Deps, string) receipts.Branding {
	return receipts.DefaultBranding
}

func receiptNumber(p store.Payment) string {
	if p.InvoiceNumber != "" {
		return p.InvoiceNumber
	}
	return "LIB-" + p.ID[len("pay_"):]
}

func recipient(ctx context.Context, d *Deps, userID, snapshot string) (string, error) {
	if snapshot != "" {
		return snapshot, nil
	}
	u, err := d.Store.GetUser(ctx, userID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", err
	}
	if u.Email == "" {
		return "", apperr.New(apperr.Unprocessable, "user %s has no e-mail address", userID)
	}
	return u.Email, nil
}

// receiptMessage renders the receipt (or refund notice), stores the PDF and records its key.
func receiptMessage(ctx context.Context, d *Deps, job ReceiptJob) (mail.Message, error) {
	p, err := d.Store.GetPayment(ctx, job.UserID, job.PaymentID)
	if err != nil {
		return mail.Message{}, err
	}
	to, err := recipient(ctx, d, p.UserID, p.CustomerEmail)
	if err != nil {
		return mail.Message{}, err
	}
	rc := receipts.Receipt{
		Branding: brandingFor(ctx, d, p.UserID), Number: receiptNumber(p), PaymentID: p.ID, Date: p.PaidAt,
		BilledTo: to, Description: p.Description, Kind: p.Kind, AmountCents: p.AmountCents, Currency: p.Currency,
		RefundedCents: p.RefundedCents, PaymentMethod: p.PaymentMethod, PeriodStart: p.PeriodStart, PeriodEnd: p.PeriodEnd,
	}
	pdf, err := receipts.PDF(rc)
	if err != nil {
		return mail.Message{}, err
	}
	key := ReceiptObjectKey(p.UserID, p.ID)
	if err := d.Blobs.Put(ctx, blob.Object{Key: key, ContentType: "application/pdf",
		ContentDisposition: `inline; filename="receipt-` + p.ID + `.pdf"`}, pdf); err != nil {
		return mail.Message{}, err
	}
	if p.ReceiptKey != key {
		if err := d.Store.SetReceiptKey(ctx, p.UserID, p.ID, key); err != nil {
			return mail.Message{}, err
		}
	}
	var e receipts.Email
	if job.RefundID == "" {
		e, err = receipts.ReceiptEmail(rc)
	} else {
		var ref store.Refund
		if err := d.Store.GetConsistent(ctx, store.RefundKey(p.UserID, p.ID, job.RefundID), &ref); err != nil {
			return mail.Message{}, err
		}
		e, err = receipts.RefundEmail(receipts.Refund{Receipt: rc, RefundID: ref.ID, AmountCents: ref.AmountCents, Date: ref.CreatedAt})
	}
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{
		From: d.Config.MailFrom, To: to, Subject: e.Subject, Text: e.Text, HTML: e.HTML,
		Attachments: []mail.Attachment{{Filename: "receipt-" + rc.Number + ".pdf", ContentType: "application/pdf", Data: pdf}},
	}, nil
}

func dunningMessage(ctx context.Context, d *Deps, job DunningJob) (mail.Message, error) {
	to, err := recipient(ctx, d, job.UserID, job.Email)
	if err != nil {
		return mail.Message{}, err
	}
	e, err := receipts.DunningEmail(receipts.Dunning{
		Branding: brandingFor(ctx, d, job.UserID), InvoiceNumber: job.InvoiceNumber, AmountCents: job.AmountCents,
		Currency: job.Currency, Attempt: job.Attempt, NextAttempt: job.NextAttemptAt,
		PayURL: job.HostedInvoiceURL, UpdateURL: job.UpdatePaymentURL,
	})
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{From: d.Config.MailFrom, To: to, Subject: e.Subject, Text: e.Text, HTML: e.HTML}, nil
}
