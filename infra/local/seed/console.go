package seed

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// The console's daily work: each step looks for what it made before, or sends a fixed
// Idempotency-Key that the API keeps as the write's identity, so a second run writes nothing.

// appURL is an address on the app's allowed origins (make dev's and the harness's), for redirects.
const appURL = "http://localhost:5173/instructor"

// connectedInstructors get a Connect account with payouts enabled (paid by the payout run); the
// other instructors have none, so their payouts are carried — both states show on the payouts page.
// seed-instructor-1 is left unconnected: `make dev`'s smoke test connects it itself.
var connectedInstructors = []string{"seed-instructor-2", "seed-instructor-3"}

// payouts connects two instructors, then queues the current month's payout run (idempotent per
// period in the API; the fixed key replays the same answer).
func (s *seeder) payouts() error {
	for _, id := range connectedInstructors {
		var conn struct {
			AccountID      string `json:"accountId"`
			PayoutsEnabled bool   `json:"payoutsEnabled"`
		}
		if _, err := s.do("POST", "/instructors/me/connect", s.token(id, "instructor"),
			map[string]string{"returnUrl": appURL, "refreshUrl": appURL}, &conn); err != nil {
			return err
		}
		if conn.PayoutsEnabled {
			continue
		}
		payload, err := stripeevents.Build(stripeevents.AccountUpdated, stripeevents.Options{UserID: id,
			AccountID: conn.AccountID, Email: id + "@example.com", EventID: "evt_seed_account_" + id})
		if err != nil {
			return err
		}
		if err := s.webhook(payload); err != nil {
			return err
		}
	}
	period := s.now.Format("2006-01")
	var run struct {
		Queued int `json:"queued"`
	}
	if _, err := s.doKey("POST", "/admin/payouts/run", s.token(AdminID, "admin"), "seed-payout-run-"+period,
		map[string]string{"period": period}, &run); err != nil {
		return err
	}
	s.rep.PayoutPeriod = period
	fmt.Fprintf(s.cfg.Out, "payouts: run of %s queued for %d instructors (%v connected)\n", period, run.Queued, connectedInstructors)
	return nil
}

// redeemers each have one redemption awaiting an admin's decision.
var redeemers = []struct {
	user, reward string
	address      map[string]string
}{
	{user: learnerID(1), reward: "course-coupon-20"},
	{user: learnerID(2), reward: "course-coupon-20"},
	{user: learnerID(3), reward: "merchandise-pack", address: map[string]string{"name": "Seed Learner Three",
		"line1": "1 Demo Street", "city": "Springfield", "postalCode": "12345", "country": "US"}},
}

// redemptions grants each redeemer tokens (the Idempotency-Key is the adjustment's source id: it
// never moves tokens twice) and, unless they already have a redemption, redeems a reward.
func (s *seeder) redemptions() error {
	admin := s.token(AdminID, "admin")
	s.rep.PendingRedemptionIDs = nil
	for _, r := range redeemers {
		if _, err := s.doKey("POST", "/admin/tokens/adjustments", admin, "seed-tokens-"+r.user,
			map[string]any{"userId": r.user, "amount": 2500, "reason": "Seeded demo tokens"}, nil); err != nil {
			return err
		}
		tok := s.token(r.user)
		var mine struct {
			Redemptions []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"redemptions"`
		}
		if _, err := s.do("GET", "/tokens/redemptions?limit=10", tok, nil, &mine); err != nil {
			return err
		}
		if len(mine.Redemptions) == 0 {
			body := map[string]any{"rewardId": r.reward}
			if r.address != nil {
				body["shippingAddress"] = r.address
			}
			var made struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			if _, err := s.doKey("POST", "/tokens/redemptions", tok, "seed-redemption-"+r.user, body, &made); err != nil {
				return err
			}
			mine.Redemptions = append(mine.Redemptions, made)
		}
		for _, m := range mine.Redemptions {
			if m.Status == "pending" {
				s.rep.PendingRedemptionIDs = append(s.rep.PendingRedemptionIDs, m.ID)
			}
		}
	}
	fmt.Fprintf(s.cfg.Out, "redemptions: %d pending\n", len(s.rep.PendingRedemptionIDs))
	return nil
}

// The seeded enterprise license.
const (
	licenseOrg   = "Seed Academy Ltd"
	licenseSeats = 10
)

// licenseMembers take seats of the license.
var licenseMembers = []string{"seed-member-1", "seed-member-2", "seed-member-3", "seed-member-4"}

type adminLicense struct {
	ID        string `json:"id"`
	OrgName   string `json:"orgName"`
	Status    string `json:"status"`
	SeatsUsed int64  `json:"seatsUsed"`
	Key       string `json:"key"`
}

// license finds the seeded license by its organisation's name (else creates it), has its org
// admin activate it, and fills seats until licenseMembers hold one.
func (s *seeder) license() error {
	admin := s.token(AdminID, "admin")
	lic, err := s.findLicense(admin)
	if err != nil {
		return err
	}
	if lic == nil {
		lic = &adminLicense{}
		day := s.now.Truncate(24 * time.Hour)
		body := map[string]any{"orgName": licenseOrg, "seats": licenseSeats,
			"startsAt": day.AddDate(0, 0, -30).Format(time.RFC3339), "expiresAt": day.AddDate(1, 0, 0).Format(time.RFC3339),
			"overagePolicy": "block", "expirationPolicy": "restrict", "adminEmails": []string{OrgAdminID + "@example.com"}}
		if _, err := s.doKey("POST", "/admin/licenses", admin, "seed-license-"+licenseOrg, body, lic); err != nil {
			return err
		}
	}
	orgAdmin := s.token(OrgAdminID)
	if lic.Status != "active" {
		if _, err := s.do("POST", "/licenses/activate", orgAdmin, map[string]string{"key": lic.Key}, nil); err != nil {
			return err
		}
	}
	if lic.SeatsUsed < int64(len(licenseMembers)) {
		var inv struct {
			Code string `json:"code"`
		}
		if _, err := s.do("POST", "/licenses/"+lic.ID+"/invites", orgAdmin,
			map[string]any{"maxUses": len(licenseMembers), "expiresInDays": 14}, &inv); err != nil {
			return err
		}
		for _, m := range licenseMembers {
			if _, err := s.do("POST", "/licenses/join", s.token(m), map[string]string{"code": inv.Code}, nil); err != nil {
				return err
			}
		}
	}
	if lic, err = s.findLicense(admin); err != nil {
		return err
	}
	if lic == nil {
		return fmt.Errorf("the license of %s is not listed after its creation", licenseOrg)
	}
	s.rep.LicenseID, s.rep.LicenseSeatsUsed = lic.ID, lic.SeatsUsed
	fmt.Fprintf(s.cfg.Out, "license: %s (%s) %s, %d of %d seats used\n", lic.ID, licenseOrg, lic.Status, lic.SeatsUsed, licenseSeats)
	return nil
}

func (s *seeder) findLicense(admin string) (*adminLicense, error) {
	cursor := ""
	for {
		var page struct {
			Licenses   []adminLicense `json:"licenses"`
			NextCursor *string        `json:"nextCursor"`
		}
		path := "/admin/licenses?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := s.do("GET", path, admin, nil, &page); err != nil {
			return nil, err
		}
		for _, l := range page.Licenses {
			if l.OrgName == licenseOrg {
				return &l, nil
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return nil, nil
		}
		cursor = *page.NextCursor
	}
}

// seedTickets are opened by learners holding seats of the seeded license (tier enterprise), so
// they carry SLA targets whose clocks run — enterprise urgent and high count calendar hours (1 h
// and 4 h to a first reply), normal business hours; a free learner's ticket has no target. The
// support queue shows them to support-1.
var seedTickets = []struct {
	requester, subject, body, priority string
}{
	{licenseMembers[0], "I was charged twice for one course", "My card shows two charges for the same course this morning. Please refund one.", "urgent"},
	{licenseMembers[1], "Lesson video does not play", "The first lesson's video stays black on my phone; the workbook opens fine.", "high"},
	{licenseMembers[2], "How do I download my receipt?", "Where can I find a PDF receipt of my last purchase for my employer?", "normal"},
}

// tickets opens each seeded ticket unless its requester already has one with that subject.
func (s *seeder) tickets() error {
	s.rep.TicketIDs, s.rep.UrgentTicketID = nil, ""
	for i, t := range seedTickets {
		tok := s.token(t.requester)
		var page struct {
			Tickets []struct {
				ID      string `json:"id"`
				Subject string `json:"subject"`
			} `json:"tickets"`
		}
		if _, err := s.do("GET", "/support/tickets?limit=100", tok, nil, &page); err != nil {
			return err
		}
		id := ""
		for _, have := range page.Tickets {
			if have.Subject == t.subject {
				id = have.ID
			}
		}
		if id == "" {
			var made struct {
				ID string `json:"id"`
			}
			if _, err := s.doKey("POST", "/support/tickets", tok, fmt.Sprintf("seed-ticket-%d", i+1),
				map[string]string{"subject": t.subject, "body": t.body, "priority": t.priority}, &made); err != nil {
				return err
			}
			id = made.ID
		}
		s.rep.TicketIDs = append(s.rep.TicketIDs, id)
		if t.priority == "urgent" {
			s.rep.UrgentTicketID = id
		}
	}
	fmt.Fprintf(s.cfg.Out, "support: %d tickets for the agents (urgent %s); agent %s (group support)\n",
		len(s.rep.TicketIDs), s.rep.UrgentTicketID, SupportAgentID)
	return nil
}

// refundable finds a learner's paid course purchase with nothing refunded or disputed yet, the
// first learner's first; the console's refund test refunds it.
func (s *seeder) refundable() error {
	for l := 1; l <= s.cfg.Learners; l++ {
		var page struct {
			Payments []payment `json:"payments"`
		}
		if _, err := s.do("GET", "/payments?limit=100", s.token(learnerID(l)), nil, &page); err != nil {
			return err
		}
		i := slices.IndexFunc(page.Payments, func(p payment) bool {
			return p.Kind == "purchase" && p.Status == "succeeded" && p.RefundedCents == 0 && !p.Disputed
		})
		if i >= 0 {
			p := page.Payments[i]
			s.rep.RefundLearnerID, s.rep.RefundablePaymentID, s.rep.RefundableAmountCents = learnerID(l), p.ID, p.AmountCents
			return nil
		}
	}
	return fmt.Errorf("no learner has a refundable paid purchase (%d learners, %d courses): seed more of either",
		s.cfg.Learners, s.cfg.Courses)
}

// payment is what refundable reads of GET /payments' items.
type payment struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	AmountCents   int64  `json:"amountCents"`
	RefundedCents int64  `json:"refundedCents"`
	Disputed      bool   `json:"disputed"`
}
