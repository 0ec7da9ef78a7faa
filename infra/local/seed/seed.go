// Package seed loads a demo business into a running local stack — `make dev` (`make seed`) or an
// end-to-end harness (infra/local/e2e) — through its API and webhook as a client and Stripe would,
// so that every page of the operator's console has something to show:
//
//   - instructors with published courses (each with two lessons whose files are uploaded through
//     their presigned URLs), learners, purchases (signed checkout.session.completed events, some old
//     enough to be released), reviews, then the release and catalog jobs;
//   - the console's daily work: Connect-enabled instructors and a payout run of the current month,
//     token redemptions awaiting approval, an activated enterprise license with seats taken, support
//     tickets (one urgent) for the agent support-1 and one it solved within its targets (solved.go),
//     a learner with a refundable payment;
//   - paying subscribers (subscribers.go): two dozen learners on Pro and Enterprise, subscribed and
//     renewed through signed Stripe events, so today's metrics have MRR and a subscription payment
//     can be refunded;
//   - 90 days of metrics history: the 89 days before today as demo snapshots (source "seed") shaped
//     to lead to today's real numbers (GET /admin/metrics, read once everything else is seeded),
//     written through billing's own conditional write (never over a snapshot already there), then
//     the billing-cycle job for today's real one.
//
// Run is idempotent: courses are found by title, purchase and subscription events carry fixed ids
// (the webhook dedupes them), reviews are PUTs, every other write is looked for first or carries a
// fixed Idempotency-Key, and history days are written only where none exists.
package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Config says which stack to seed and how much.
type Config struct {
	// BaseURL is the gateway's base URL (make dev: http://127.0.0.1:3000; a harness: Harness.URL).
	BaseURL string
	// Auth mints the seeded users' tokens (make dev: the state dir's key; a harness: Harness.Auth).
	Auth *authlocal.Authority
	// WebhookSecret signs the Stripe events (make dev: dev.env's; a harness:
	// Env.Getenv(manifest.EnvWebhookSecret)).
	WebhookSecret string
	// StripeStateURL is the Stripe stand-in (infra/local/stripestate, docs/decisions/0082), told
	// about each purchase's charge before the webhook is, so a later refund refunds its real amount.
	// Empty (a harness without a stand-in): nothing is told and refunds are answered by stripe-mock.
	StripeStateURL string
	// Courses and Learners: how many (0: 50 courses, 12 learners). The browser tests use a few.
	Courses, Learners int
	// Store is the stack's table, where the metrics history is written (billing.WriteSnapshot).
	// nil: no history is written (Report.History says so).
	Store *store.Store
	// HistoryDays is how many days the history covers, today included (0: 90). Today's is the
	// billing-cycle job's own.
	HistoryDays int
	// Out receives a short progress report (nil: discarded).
	Out io.Writer
	// Now is the time the seed runs at (nil: time.Now); history days are counted back from its UTC day.
	Now func() time.Time
	// HTTP is the client used (nil: 60 s timeout).
	HTTP *http.Client
}

// Fixed users of the seeded stack. Tokens for them: Config.Auth.Mint(id, id+"@example.com", groups, ttl).
const (
	AdminID        = "seed-admin"        // group admin
	SupportAgentID = "support-1"         // group support
	InstructorID   = "seed-instructor-1" // group instructor; has courses and sales
	OrgAdminID     = "seed-org-admin"    // activated the seeded license (no group)
)

// Report is what a run found or made: the ids a test needs, and counts.
type Report struct {
	AdminID        string `json:"adminId"`
	SupportAgentID string `json:"supportAgentId"`
	InstructorID   string `json:"instructorId"`
	// RefundLearnerID has a paid course purchase not yet fully refunded: RefundablePaymentID, its
	// amount RefundableAmountCents (GET /payments as that learner lists it).
	RefundLearnerID       string `json:"refundLearnerId"`
	RefundablePaymentID   string `json:"refundablePaymentId"`
	RefundableAmountCents int64  `json:"refundableAmountCents"`
	// Subscribers is how many paying subscribers were seeded (seed-subscriber-01..; Pro, every
	// sixth Enterprise). SubscriptionRefundUserID has a paid subscription invoice not yet refunded:
	// RefundableSubscriptionPaymentID (kind subscription), its amount
	// RefundableSubscriptionAmountCents.
	Subscribers                       int    `json:"subscribers"`
	SubscriptionRefundUserID          string `json:"subscriptionRefundUserId"`
	RefundableSubscriptionPaymentID   string `json:"refundableSubscriptionPaymentId"`
	RefundableSubscriptionAmountCents int64  `json:"refundableSubscriptionAmountCents"`

	Courses          int `json:"courses"`
	CoursesCreated   int `json:"coursesCreated"`
	CoursesPublished int `json:"coursesPublished"`
	Learners         int `json:"learners"`
	PaidPurchases    int `json:"paidPurchases"`
	FreeEnrolments   int `json:"freeEnrolments"`
	Reviews          int `json:"reviews"`

	// PayoutPeriod is the month whose payout run was queued (GET /admin/payouts?period=…).
	PayoutPeriod string `json:"payoutPeriod"`
	// PendingRedemptionIDs are the seeded redemptions still pending (GET /admin/redemptions).
	PendingRedemptionIDs []string `json:"pendingRedemptionIds"`
	LicenseID            string   `json:"licenseId"`
	LicenseSeatsUsed     int64    `json:"licenseSeatsUsed"`
	// TicketIDs are the seeded support tickets; UrgentTicketID is the urgent one.
	TicketIDs      []string `json:"ticketIds"`
	UrgentTicketID string   `json:"urgentTicketId"`
	// SolvedTicketID was answered and solved by support-1 within its targets (not in the open
	// queue): support's SLA has outcomes to show.
	SolvedTicketID string `json:"solvedTicketId"`

	History History `json:"history"`
}

// History is what the run did to the metrics history.
type History struct {
	From    string `json:"from"`    // first demo day (YYYY-MM-DD)
	To      string `json:"to"`      // last demo day: yesterday
	Written int    `json:"written"` // demo days written now
	Kept    int    `json:"kept"`    // days that already had a snapshot (left alone)
	// TodayWritten: the billing-cycle job wrote today's snapshot in this run (false: it existed).
	TodayWritten bool   `json:"todayWritten"`
	Skipped      string `json:"skipped,omitempty"` // why no history was written (no Store)
}

// Run seeds the stack at cfg.BaseURL. It fails at the first answer it did not expect.
func Run(ctx context.Context, cfg Config) (Report, error) {
	s, err := newSeeder(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	if _, err := s.do("GET", "/courses?limit=1", "", nil, nil); err != nil {
		return Report{}, fmt.Errorf("%w (is the stack running?)", err)
	}
	return s.run()
}

func newSeeder(ctx context.Context, cfg Config) (*seeder, error) {
	if cfg.BaseURL == "" || cfg.Auth == nil || cfg.WebhookSecret == "" {
		return nil, errors.New("seed: BaseURL, Auth and WebhookSecret are required")
	}
	if cfg.Courses <= 0 {
		cfg.Courses = 50
	}
	if cfg.Courses < minCourses {
		return nil, fmt.Errorf("seed: %d courses: at least %d (the first one is free; the console needs paid purchases)", cfg.Courses, minCourses)
	}
	if cfg.Learners <= 0 {
		cfg.Learners = 12
	}
	if cfg.HistoryDays <= 0 {
		cfg.HistoryDays = DefaultHistoryDays
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &seeder{ctx: ctx, cfg: cfg, now: cfg.Now().UTC()}, nil
}

// minCourses: the catalog's first course is free, its second the first paid one.
const minCourses = 2

type seeder struct {
	ctx context.Context
	cfg Config
	now time.Time
	rep Report
}

func (s *seeder) run() (Report, error) {
	s.rep = Report{AdminID: AdminID, SupportAgentID: SupportAgentID, InstructorID: InstructorID}
	steps := []func() error{s.catalogAndSales, s.marketJobs, s.payouts, s.redemptions, s.license, s.tickets,
		s.solved, s.refundable, s.subscriptions, s.history}
	for _, step := range steps {
		if err := step(); err != nil {
			return s.rep, err
		}
	}
	fmt.Fprintf(s.cfg.Out, "users: admin %s, support agent %s, instructor %s, learner %s (refundable payment %s)\n",
		AdminID, SupportAgentID, InstructorID, s.rep.RefundLearnerID, s.rep.RefundablePaymentID)
	fmt.Fprintf(s.cfg.Out, "browse: curl -s '%s/courses?q=go&sort=rating'\n", s.cfg.BaseURL)
	return s.rep, nil
}

func (s *seeder) token(sub string, groups ...string) string {
	tok, err := s.cfg.Auth.Mint(sub, sub+"@example.com", groups, time.Hour)
	if err != nil {
		panic(err) // a local key that cannot sign is a broken state dir
	}
	return tok
}

// do sends a JSON request and decodes a 2xx answer into out; other statuses are errors unless
// listed in okStatus (then the status is returned without decoding).
func (s *seeder) do(method, path, token string, body, out any, okStatus ...int) (int, error) {
	return s.doKey(method, path, token, "", body, out, okStatus...)
}

// doKey is do with an Idempotency-Key header (key empty: none).
func (s *seeder) doKey(method, path, token, key string, body, out any, okStatus ...int) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(s.ctx, method, s.cfg.BaseURL+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("idempotency-key", key)
	}
	res, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, st := range okStatus {
		if res.StatusCode == st {
			return st, nil
		}
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

// job runs a schedule function through the gateway's local jobs endpoint and returns its report.
func (s *seeder) job(name string) (json.RawMessage, error) {
	var res struct {
		Result json.RawMessage `json:"result"`
	}
	if _, err := s.do("POST", "/_local/jobs/"+name, "", nil, &res); err != nil {
		return nil, err
	}
	return res.Result, nil
}

// upload PUTs a file to its presigned URL (moto's S3), as a browser would.
func (s *seeder) upload(url, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("content-type", contentType)
	res, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("upload to the presigned URL: %d", res.StatusCode)
	}
	return nil
}

// webhook signs and posts a Stripe event, as Stripe does, after telling the Stripe stand-in about
// it (so the seeded purchases' charges can be refunded later for their real amounts).
func (s *seeder) webhook(payload []byte) error {
	if err := TellStripeState(s.ctx, s.cfg.HTTP, s.cfg.StripeStateURL, payload); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.cfg.BaseURL+WebhookPath(), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("content-type", "application/json; charset=utf-8")
	req.Header.Set("stripe-signature", stripeevents.SignatureHeader(payload, s.cfg.WebhookSecret, time.Now()))
	req.Header.Set("user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	res, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return errors.New("webhook: " + res.Status + " " + string(b))
	}
	return nil
}

// WebhookPath is the Stripe webhook's function URL path.
func WebhookPath() string {
	for _, f := range manifest.Of(manifest.FunctionURL) {
		return f.Trigger.Path
	}
	return "/webhooks/stripe"
}

// TellStripeState tells the Stripe stand-in (docs/decisions/0082) about an event about to be sent
// to the webhook in Stripe's name (POST /_stripestate/events): the charge of a paid checkout or
// invoice, a Dashboard refund, a dispute then exist there, so a later POST /admin/refunds refunds
// that charge's real amount instead of a stripe-mock fixture. stateURL empty: nothing to tell. A
// stand-in that cannot be reached or refuses the event is an error: the webhook would accept a
// payment whose charge Stripe's side then does not know.
func TellStripeState(ctx context.Context, client *http.Client, stateURL string, payload []byte) error {
	if stateURL == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(stateURL, "/")+"/_stripestate/events", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("telling the Stripe stand-in about the event: %w (is `make dev` running?)", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the Stripe stand-in at %s refused the event: %s", stateURL, AnswerMessage(res.Status, body))
	}
	return nil
}

// AnswerMessage is the message of an error answer: the error shape's, API Gateway's, or the raw body.
func AnswerMessage(status string, body []byte) string {
	var shaped struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &shaped) == nil {
		if shaped.Error.Message != "" {
			return shaped.Error.Message + " (" + status + ")"
		}
		if shaped.Message != "" {
			return shaped.Message + " (" + status + ")"
		}
	}
	return status + " " + strings.TrimSpace(string(body))
}
