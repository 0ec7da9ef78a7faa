package marketplace

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

type connectRequest struct {
	ReturnURL  string `json:"returnUrl"`
	RefreshURL string `json:"refreshUrl"`
}

func (c *connectRequest) Validate() error {
	if err := platform.ValidRedirectURL("returnUrl", c.ReturnURL); err != nil {
		return err
	}
	return platform.ValidRedirectURL("refreshUrl", c.RefreshURL)
}

// ConnectResponse is the answer of POST /instructors/me/connect.
type ConnectResponse struct {
	AccountID      string `json:"accountId"`
	URL            string `json:"url"`
	ExpiresAt      string `json:"expiresAt"`
	PayoutsEnabled bool   `json:"payoutsEnabled"`
}

func wireConnectInstructor(w wiring) (httpapi.Lambda, error) {
	return HandleConnectInstructor(w.rt.Fn, w.d), nil
}

// HandleConnectInstructor serves POST /instructors/me/connect: the caller's Stripe Connect Express
// account, created once (its idempotency key is derived from the instructor id, and the first id
// stored wins a race), and an onboarding link to it. account.updated then marks payouts enabled.
func HandleConnectInstructor(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req connectRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		if err := platform.OnAppOrigin(d.Config, platform.RedirectField{Name: "returnUrl", URL: req.ReturnURL},
			platform.RedirectField{Name: "refreshUrl", URL: req.RefreshURL}); err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		prof, err := d.Books.Instructor(ctx, me)
		if err != nil {
			return httpapi.Response{}, err
		}
		acct := prof.ConnectAccountID
		if acct == "" {
			created, err := d.Stripe.ExpressAccount(ctx, me, r.Principal.Email)
			if err != nil {
				return httpapi.Response{}, err
			}
			if acct, err = rememberAccount(ctx, d, r, created); err != nil {
				return httpapi.Response{}, err
			}
		}
		op := "r" + r.ID
		if k := r.Header(httpapi.IdempotencyHeader); k != "" {
			op = "k" + idempotency.Hash([]byte(fn.Name), []byte(me), []byte(k))[:40]
		}
		url, expires, err := d.Stripe.OnboardingLink(ctx, acct, req.RefreshURL, req.ReturnURL, op)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(ConnectResponse{AccountID: acct, URL: url, ExpiresAt: rfc3339(expires), PayoutsEnabled: prof.PayoutsEnabled}), nil
	})
}

// rememberAccount stores the instructor's Connect account once: if another request stored one
// first, that one wins and is returned.
func rememberAccount(ctx context.Context, d *Deps, r *httpapi.Request, acct string) (string, error) {
	stored, created, err := d.Books.SaveAccount(ctx, r.Principal.UserID, acct, r.Principal.Email, d.Clock.Now().UTC())
	if err != nil || !created {
		return stored, err
	}
	if err := d.Courses.WriteAudit(ctx, audit.Entry{Actor: r.Principal.UserID, Action: "connect.account",
		Target: "instructor:" + r.Principal.UserID, RequestID: r.ID, Details: map[string]string{"account": acct}}); err != nil {
		logging.From(ctx).Warn("audit record not written", "err", err.Error())
	}
	return stored, nil
}

// ApplyAccountUpdated records whether an instructor's Connect account can receive payouts. The
// instructor is the account's metadata.userId (we set it at creation), and the account must be the
// one on their profile. Events apply in Stripe's order: an event newer than the last one applied
// wins; an older one changes nothing. Events carry their creation time in seconds, so two events
// of the same second cannot be ordered by it: that tie is broken by reading the account from
// Stripe, whose present state is at least as new as both.
func ApplyAccountUpdated(ctx context.Context, d *Deps, acct *stripe.Account, eventCreated int64, eventID string) error {
	st := AccountState{InstructorID: acct.Metadata["userId"], AccountID: acct.ID, PayoutsEnabled: acct.PayoutsEnabled,
		EventAt: eventCreated, At: d.Clock.Now().UTC()}
	au := func(source string) audit.Entry {
		return audit.Entry{Actor: audit.ActorStripe, Action: "connect.updated", Target: "instructor:" + st.InstructorID,
			RequestID: eventID, Details: map[string]string{"account": acct.ID, "payoutsEnabled": boolString(st.PayoutsEnabled), "source": source}}
	}
	err := d.Books.RecordAccount(ctx, st, false, au("event"))
	if !store.IsConditionFailed(err) {
		return err
	}
	prof, err := d.Books.Instructor(ctx, st.InstructorID)
	if err != nil {
		return err
	}
	if prof.ConnectAccountID != acct.ID || prof.AccountEventAt != eventCreated {
		logging.From(ctx).Info("account.updated not applied: not the instructor's account, or older than the last one",
			"accountId", acct.ID, "instructorId", st.InstructorID)
		return nil
	}
	if st.PayoutsEnabled, err = d.Stripe.AccountPayoutsEnabled(ctx, acct.ID); err != nil {
		return err
	}
	err = d.Books.RecordAccount(ctx, st, true, au("stripe"))
	if store.IsConditionFailed(err) {
		return nil // a newer event was applied meanwhile
	}
	return err
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// nextPayoutAt is the next monthly payout run after t: the 1st of the next month, 02:00 UTC.
func nextPayoutAt(t time.Time) time.Time {
	t = t.UTC()
	run := time.Date(t.Year(), t.Month(), 1, 2, 0, 0, 0, time.UTC)
	if !run.After(t) {
		run = run.AddDate(0, 1, 0)
	}
	return run
}
