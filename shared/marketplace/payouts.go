package marketplace

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/stripeapi"
)

// MsgPayout is the payouts queue's message: pay one instructor for one period.
const MsgPayout = "payout"

// PayoutJob is its payload.
type PayoutJob struct {
	InstructorID string `json:"instructorId"`
	Period       string `json:"period"`
}

// PayoutDedupeID names one logical payout message.
func PayoutDedupeID(instructorID, period string) string {
	return "payout#" + period + "#" + instructorID
}

// EnqueueReport is what queueing a period's payouts did.
type EnqueueReport struct {
	Period string `json:"period"`
	Queued int    `json:"queued"`
}

// EnqueuePayouts puts one message per instructor whose balance may hold available money (GSI2
// PAYABLE, set when earnings are released) on the payouts queue. Running it twice queues the same
// messages again; the consumer pays each (instructor, period) at most once.
func EnqueuePayouts(ctx context.Context, d *Deps, period string) (EnqueueReport, error) {
	rep := EnqueueReport{Period: period}
	ids, err := d.Books.PayableInstructors(ctx)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		if err := sendPayout(ctx, d, id, period); err != nil {
			return rep, err
		}
		rep.Queued++
	}
	return rep, nil
}

func sendPayout(ctx context.Context, d *Deps, instructorID, period string) error {
	return d.Queue.Send(ctx, manifest.PayoutsQueue, MsgPayout, PayoutDedupeID(instructorID, period),
		PayoutJob{InstructorID: instructorID, Period: period})
}

func wirePayouts(w wiring) (job.Handler[EnqueueReport], error) {
	return job.Handle(w.rt.Log, func(ctx context.Context) (EnqueueReport, error) { return RunMonthlyPayouts(ctx, w.d) }), nil
}

// RunMonthlyPayouts is the monthly job (1st, 02:00 UTC): queue this month's payouts.
func RunMonthlyPayouts(ctx context.Context, d *Deps) (EnqueueReport, error) {
	return EnqueuePayouts(ctx, d, Period(d.Clock.Now()))
}

type runPayoutsRequest struct {
	Period string `json:"period"`
}

func (r *runPayoutsRequest) Validate() error {
	if !ValidPeriod(r.Period) {
		return apperr.New(apperr.Invalid, "period must be YYYY-MM")
	}
	return nil
}

func wireRunPayouts(w wiring) (httpapi.Lambda, error) { return HandleRunPayouts(w.rt.Fn, w.d), nil }

// HandleRunPayouts serves POST /admin/payouts/run {period} (admin; Idempotency-Key honoured): queue
// the period's payouts now. Idempotent per period: every (instructor, period) is paid at most once.
func HandleRunPayouts(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req runPayoutsRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if req.Period > Period(d.Clock.Now()) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "period %s has not started", req.Period)
		}
		rep, err := EnqueuePayouts(ctx, d, req.Period)
		if err != nil {
			return httpapi.Response{}, err
		}
		if err := d.Courses.WriteAudit(ctx, audit.Entry{Actor: r.Principal.UserID, Action: "payouts.run",
			Target: "period:" + req.Period, RequestID: r.ID, Details: map[string]string{"queued": itoa(int64(rep.Queued))}}); err != nil {
			r.Log.Warn("audit record not written", "err", err.Error())
		}
		return httpapi.JSON(http.StatusAccepted, rep), nil
	}))
}

func wireProcessPayouts(w wiring) (queue.Consumer, error) {
	var r queue.Router
	PayoutsHooks(w.d, &r)
	return r.Consumer(w.rt.Log), nil
}

// PayoutsHooks registers the payout message with a queue router.
func PayoutsHooks(d *Deps, r *queue.Router) {
	r.On(MsgPayout, func(ctx context.Context, msg queue.Message) error {
		var job PayoutJob
		if err := json.Unmarshal(msg.Payload, &job); err != nil || job.InstructorID == "" || !ValidPeriod(job.Period) {
			logging.From(ctx).Error("dropping payout message without instructor or period")
			return nil // retrying cannot fix it
		}
		return ProcessPayout(ctx, d, job.InstructorID, job.Period)
	})
}

// ProcessPayout pays one instructor for one period, at most once:
//
//  1. A paid or failed payout of the period is final (its statement is sent if it was not yet).
//  2. Otherwise the decision (ledger.DecidePayout: available ≥ minimum, a Connect account with
//     payouts enabled, never from a negative balance); nothing to pay records the payout as carried.
//  3. The reversible step first: one transaction records the payout as transferring and moves the
//     amount from available to paid (conditioned on available ≥ amount) with its ledger entry.
//  4. The Stripe transfer, idempotency key = the payout id. Success → paid, statement e-mailed. A
//     definite refusal → failed, and the balance restored in one transaction. An ambiguous failure
//     (timeout, 5xx) keeps the payout transferring and fails the message; the retry first looks for
//     the transfer in Stripe's records (transfer group = payout id), so it never pays twice and a
//     transfer that happened is never forgotten.
func ProcessPayout(ctx context.Context, d *Deps, instructorID, period string) error {
	var po Payout
	err := retryConflicts(ctx, "decide payout", func() error {
		cur, err := d.Books.Payout(ctx, instructorID, period)
		if err != nil {
			return err
		}
		if cur != nil && cur.Status != PayoutCarried {
			po = *cur
			return nil
		}
		po, err = decidePayout(ctx, d, instructorID, period, cur)
		return err
	})
	if err != nil {
		return err
	}
	switch po.Status {
	case PayoutPaid:
		return d.SendStatement(ctx, po)
	case PayoutTransferring:
		return transfer(ctx, d, po)
	}
	return nil // carried or failed
}

// decidePayout records the period's payout as carried, or reserves its amount (transferring).
func decidePayout(ctx context.Context, d *Deps, instructorID, period string, cur *Payout) (Payout, error) {
	prof, err := d.Books.Instructor(ctx, instructorID)
	if err != nil {
		return Payout{}, err
	}
	bal, err := d.Books.Balance(ctx, instructorID)
	if err != nil {
		return Payout{}, err
	}
	now := d.Clock.Now().UTC()
	dec := ledger.DecidePayout(bal.Buckets, d.PayoutMinimum, prof.ConnectAccountID != "", prof.PayoutsEnabled)
	var read int64
	po := Payout{ID: PayoutID(instructorID, period), InstructorID: instructorID, Period: period, Currency: Currency,
		AvailableCents: bal.Available, CreatedAt: now, UpdatedAt: now, Version: 1}
	if cur != nil {
		read, po.CreatedAt, po.Version = cur.Version, cur.CreatedAt, cur.Version+1
	}
	if dec.Amount == 0 {
		po.Status, po.CarryReason = PayoutCarried, dec.Carry
		if err := d.Books.Commit(ctx, &Change{Book: booking{At: now}, Payout: &Versioned[Payout]{Item: po, Read: read}}); err != nil {
			return Payout{}, err
		}
		if bal.Available <= 0 {
			if err := d.Books.Unlist(ctx, instructorID); err != nil {
				logging.From(ctx).Warn("balance not taken off the payable index", "instructorId", instructorID, "err", err.Error())
			}
		}
		logging.From(ctx).Info("payout carried", "payoutId", po.ID, "reason", dec.Carry, "availableCents", bal.Available)
		return po, nil
	}
	po.Status, po.AmountCents, po.ConnectAccountID = PayoutTransferring, dec.Amount, prof.ConnectAccountID
	err = d.Books.Commit(ctx, &Change{Book: booking{At: now, Actor: audit.ActorJob, RequestID: "payout-" + po.ID, PayoutID: po.ID,
		AvailableAtLeast: dec.Amount, Details: map[string]string{"period": period, "account": prof.ConnectAccountID}},
		Move: ledger.PayoutMovement(instructorID, dec.Amount), Payout: &Versioned[Payout]{Item: po, Read: read}})
	return po, err
}

// transfer makes (or finds) the Stripe transfer of a reserved payout.
func transfer(ctx context.Context, d *Deps, po Payout) error {
	log := logging.From(ctx).With("payoutId", po.ID)
	if po.Attempts > 0 {
		// An earlier attempt may have reached Stripe: its record decides before anything is retried
		// (a reversed transfer counts: it was made).
		id, found, err := d.Stripe.FindTransfer(ctx, po.ID)
		if err != nil {
			return err
		}
		if found {
			log.Info("earlier transfer found in Stripe", "transferId", id)
			return markPaid(ctx, d, po, id)
		}
	}
	if err := d.Books.CountTransferAttempt(ctx, po.InstructorID, po.Period); err != nil {
		return err
	}
	trID, err := d.Stripe.Transfer(ctx, TransferInput{PayoutID: po.ID, InstructorID: po.InstructorID, Period: po.Period,
		AccountID: po.ConnectAccountID, Currency: po.Currency, AmountCents: po.AmountCents})
	switch k := stripeapi.KindOf(err); {
	case err == nil:
		return markPaid(ctx, d, po, trID)
	case k == stripeapi.Definite || k == stripeapi.Declined:
		code := "refused"
		if f := stripeapi.Classify(err); f != nil && f.Code != "" {
			code = f.Code
		}
		log.Error("payout transfer refused by Stripe; balance restored", "code", code)
		return failPayout(ctx, d, po, code)
	default:
		log.Warn("payout transfer outcome unknown; the retry resolves it from Stripe's records", "err", err.Error())
		return err
	}
}

func markPaid(ctx context.Context, d *Deps, po Payout, transferID string) error {
	marked := false // this call moved it to paid (a retry finding it paid emits nothing)
	err := retryConflicts(ctx, "mark payout paid", func() error {
		marked = false
		cur, err := d.Books.Payout(ctx, po.InstructorID, po.Period)
		if err != nil || cur == nil {
			return apperr.Wrap(err, apperr.Internal, "payout %s vanished", po.ID)
		}
		if cur.Status == PayoutPaid {
			po = *cur
			return nil
		}
		if cur.Status != PayoutTransferring {
			return apperr.New(apperr.Internal, "payout %s is %s, not transferring", po.ID, cur.Status)
		}
		now := d.Clock.Now().UTC()
		p := *cur
		read := p.Version
		p.Status, p.TransferID, p.PaidAt, p.UpdatedAt, p.Version = PayoutPaid, transferID, &now, now, read+1
		err = d.Books.Commit(ctx, &Change{Book: booking{At: now, Counters: map[string]int64{mktmetrics.CtrPayouts: 1}},
			Payout: &Versioned[Payout]{Item: p, Read: read},
			Audit: &audit.Entry{Actor: audit.ActorJob, Action: "marketplace.payout_paid", Target: "payout:" + p.ID,
				RequestID: "payout-" + p.ID, Details: map[string]string{"transferId": transferID, "amountCents": itoa(p.AmountCents),
					"instructorId": p.InstructorID}}})
		if err != nil {
			return err
		}
		po, marked = p, true
		return nil
	})
	if err != nil {
		return err
	}
	log := logging.From(ctx)
	log.Info("payout paid", "payoutId", po.ID, "transferId", transferID, "amountCents", po.AmountCents)
	if marked {
		metric.Record(ctx, log, metric.Point{Name: metric.PayoutsPaid, Unit: metric.Count, Value: 1})
		metric.Record(ctx, log, metric.Point{Name: metric.PayoutsPaidCents, Unit: metric.None, Value: po.AmountCents})
	}
	return d.SendStatement(ctx, po)
}

// failPayout records a definite refusal and restores the balance, in one transaction.
func failPayout(ctx context.Context, d *Deps, po Payout, code string) error {
	failed := false
	err := retryConflicts(ctx, "record failed payout", func() error {
		failed = false
		cur, err := d.Books.Payout(ctx, po.InstructorID, po.Period)
		if err != nil || cur == nil {
			return apperr.Wrap(err, apperr.Internal, "payout %s vanished", po.ID)
		}
		if cur.Status != PayoutTransferring {
			return nil
		}
		now := d.Clock.Now().UTC()
		p := *cur
		read := p.Version
		p.Status, p.FailureCode, p.UpdatedAt, p.Version = PayoutFailed, code, now, read+1
		err = d.Books.Commit(ctx, &Change{Book: booking{At: now, Actor: audit.ActorJob, RequestID: "payout-" + p.ID,
			PayoutID: p.ID, Details: map[string]string{"failureCode": code}},
			Move: ledger.PayoutReversal(p.InstructorID, p.AmountCents), Payout: &Versioned[Payout]{Item: p, Read: read}})
		failed = err == nil
		return err
	})
	if err == nil && failed { // recorded by this call: the dashboard's failed payouts
		metric.Record(ctx, logging.From(ctx), metric.Point{Name: metric.PayoutsFailed, Unit: metric.Count, Value: 1})
	}
	return err
}

// PayoutView is a payout as the API shows it.
type PayoutView struct {
	ID             string  `json:"id"`
	InstructorID   string  `json:"instructorId"`
	Period         string  `json:"period"`
	Status         string  `json:"status"`
	AmountCents    int64   `json:"amountCents"`
	Currency       string  `json:"currency"`
	AvailableCents int64   `json:"availableCents"`
	CarryReason    string  `json:"carryReason,omitempty"`
	TransferID     string  `json:"transferId,omitempty"`
	FailureCode    string  `json:"failureCode,omitempty"`
	CreatedAt      string  `json:"createdAt"`
	PaidAt         *string `json:"paidAt,omitempty"`
}

func payoutView(p Payout) PayoutView {
	v := PayoutView{ID: p.ID, InstructorID: p.InstructorID, Period: p.Period, Status: p.Status, AmountCents: p.AmountCents,
		Currency: p.Currency, AvailableCents: p.AvailableCents, CarryReason: p.CarryReason, TransferID: p.TransferID,
		FailureCode: p.FailureCode, CreatedAt: rfc3339(p.CreatedAt)}
	if p.PaidAt != nil {
		s := rfc3339(*p.PaidAt)
		v.PaidAt = &s
	}
	return v
}

// PayoutList is the body of the payout lists (httpapi.ListPage writes it).
type PayoutList struct {
	Payouts    []PayoutView `json:"payouts"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

var payoutStatuses = []string{PayoutCarried, PayoutTransferring, PayoutPaid, PayoutFailed}

func wireListPayouts(w wiring) (httpapi.Lambda, error) { return HandleListPayouts(w.rt.Fn, w.d), nil }

// HandleListPayouts serves GET /admin/payouts?period=YYYY-MM[&status=…] (admin): a period's payouts
// (default: this month), optionally of one status.
func HandleListPayouts(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		period, err := periodParam(r, d)
		if err != nil {
			return httpapi.Response{}, err
		}
		status, given := queryParam(r, "status")
		if given && !slices.Contains(payoutStatuses, status) {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "status must be one of carried, transferring, paid, failed")
		}
		return httpapi.ListPage(ctx, r, "payouts", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Payout, string, error) {
				page, err := d.Courses.PeriodPayouts(ctx, period, status, limit, cursor)
				return page.Items, page.NextCursor, err
			}, payoutView)
	})
}

// queryParam reads a query parameter and whether it was sent at all ("?period=" is sent, empty).
func queryParam(r *httpapi.Request, name string) (string, bool) {
	v, ok := r.Event.QueryStringParameters[name]
	return v, ok
}

// periodParam is the period query parameter: the current month when absent, a 400 when malformed
// (an empty value included).
func periodParam(r *httpapi.Request, d *Deps) (string, error) {
	period, given := queryParam(r, "period")
	if !given {
		return Period(d.Clock.Now()), nil
	}
	if !ValidPeriod(period) {
		return "", apperr.New(apperr.Invalid, "period must be YYYY-MM")
	}
	return period, nil
}

// statementWindow is how far back a payout statement lists ledger entries: the month before the
// payout period and the period itself, up to the payout.
func statementWindow(period string, now time.Time) (time.Time, time.Time) {
	start, _ := time.Parse("2006-01", period)
	return start.AddDate(0, -1, 0), now
}
