package marketplace

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

// The marketplace's posting rules (docs/books.md, "Course sale 70/30" and after): every change that
// moves money carries one journal entry, built from the change alone by journalEntry and written in
// the change's own transaction (dynamoBooks.Items), so the books and the instructors' ledgers can
// never disagree.
//
// One recipe serves every kind, so the journal mirrors the marketplace's own records by construction:
//
//   - instructor payable: one line per payee and bucket that moves (pending, available, held; the
//     paid bucket is not a liability), on the payee's party — Σ payable per instructor is their
//     ledger balance (pending + available + held);
//   - stripe_in_flight: the customer money the event moves at Stripe — a sale's gross (debit), a
//     refund's amount (credit; a refund that failed is a debit), the disputed amount Stripe
//     withdraws when a chargeback opens (credit) and reinstates when it is won (debit);
//   - a sale bought with a rewards coupon (Sale.DiscountCents, docs/books.md "Token redemption:
//     coupon"): the discount is a debit to marketing_token_redemptions on the buyer's party — the
//     tokens paid it, and it grosses the commission up, as the coupon's price was ours to give;
//     refunds and disputes of the sale never give it back (Stripe does not restore a used coupon);
//   - the rule's balancing account takes the rest: commission revenue for a sale (= the platform's
//     share, plus the token-funded discount), refunds_marketplace for refunds and
//     disputes_marketplace for disputes (the platform's share of what went back, plus, while a
//     dispute is open, the instructors' held share Stripe has withdrawn), transfers_connected for
//     payouts and their reversals. A release has none: it moves money between two payable buckets.
//
// A "clawback" (a refund or a lost dispute after the share was paid out) is no kind of its own: the
// refund's or the dispute's debit lands on instructor_payable_available, which goes below zero for
// that instructor until later earnings settle it — exactly as the ledger's available bucket does.

// Area is the marketplace's area name in the journal.
const Area = "marketplace"

// The marketplace's posting kinds. Entry ids are "<kind>.<source>" (journal.EntryID): one entry per
// source object, so a redelivered event posts nothing twice even beyond the change's own guards.
const (
	JournalSale             = "mkt.sale"              // mkt.sale.<charge>: a course sale, 70/30
	JournalRelease          = "mkt.release"           // mkt.release.<sale>: pending → available
	JournalRefund           = "mkt.refund"            // mkt.refund.<sale>.<version>: refunds counted
	JournalRefundReversed   = "mkt.refund_reversed"   // mkt.refund_reversed.<sale>.<version>: a refund failed
	JournalDispute          = "mkt.dispute"           // mkt.dispute.<dispute>: opened (held, withdrawn)
	JournalDisputeEscalated = "mkt.dispute_escalated" // mkt.dispute_escalated.<dispute>: an inquiry became a chargeback
	JournalDisputeWon       = "mkt.dispute_won"       // mkt.dispute_won.<dispute>: reinstated, hold back
	JournalDisputeLost      = "mkt.dispute_lost"      // mkt.dispute_lost.<dispute>: the instructors bear their share
	JournalPayout           = "mkt.payout"            // mkt.payout.<payout>: transfer booked
	JournalPayoutFailed     = "mkt.payout_failed"     // mkt.payout_failed.<payout>: Stripe refused the transfer
	JournalTransferReversed = "mkt.transfer_reversed" // mkt.transfer_reversed.<transfer>.<reversed total>
	journalMemoMax          = 200
	journalSourceMax        = 200
	journalIDMax            = 200
	journalIDHash           = 12
)

var (
	payableAccounts = []journal.AccountID{journal.InstructorPayablePending, journal.InstructorPayableAvailable,
		journal.InstructorPayableHeld}
	saleSideAccounts = append([]journal.AccountID{journal.StripeInFlight}, payableAccounts...)
)

// journalRules are the marketplace's rules: kind, summary, accounts (and, for journalEntry, the
// balancing account).
var journalRules = []struct {
	kind, summary string
	balancing     journal.AccountID
	accounts      []journal.AccountID
}{
	{JournalSale, "a course sale: the instructors' shares pending, the rest commission (grossed up by a token-funded discount)",
		journal.RevenueMarketplaceCommission,
		[]journal.AccountID{journal.StripeInFlight, journal.MarketingTokenRedemptions, journal.InstructorPayablePending,
			journal.RevenueMarketplaceCommission}},
	{JournalRelease, "instructors' shares released after the refund window", "",
		[]journal.AccountID{journal.InstructorPayablePending, journal.InstructorPayableAvailable}},
	{JournalRefund, "a course sale refunded (in part): shares reversed, the platform's share to refunds", journal.RefundsMarketplace,
		append(slices.Clone(saleSideAccounts), journal.RefundsMarketplace)},
	{JournalRefundReversed, "a course sale refund failed or was canceled: the shares come back", journal.RefundsMarketplace,
		append(slices.Clone(saleSideAccounts), journal.RefundsMarketplace)},
	{JournalDispute, "a course sale disputed: funds withdrawn, the instructors' shares held", journal.DisputesMarketplace,
		append(slices.Clone(saleSideAccounts), journal.DisputesMarketplace)},
	{JournalDisputeEscalated, "an inquiry on a course sale became a chargeback: funds withdrawn", journal.DisputesMarketplace,
		append(slices.Clone(saleSideAccounts), journal.DisputesMarketplace)},
	{JournalDisputeWon, "a course sale dispute won: funds reinstated, the hold released", journal.DisputesMarketplace,
		append(slices.Clone(saleSideAccounts), journal.DisputesMarketplace)},
	{JournalDisputeLost, "a course sale dispute lost: the instructors' held shares reversed", journal.DisputesMarketplace,
		append(slices.Clone(saleSideAccounts), journal.DisputesMarketplace)},
	{JournalPayout, "an instructor payout transferred to their connected account", journal.TransfersConnected,
		[]journal.AccountID{journal.InstructorPayableAvailable, journal.TransfersConnected}},
	{JournalPayoutFailed, "an instructor payout refused by Stripe: the balance restored", journal.TransfersConnected,
		[]journal.AccountID{journal.InstructorPayableAvailable, journal.TransfersConnected}},
	{JournalTransferReversed, "a payout transfer reversed: the instructor is owed it again", journal.TransfersConnected,
		[]journal.AccountID{journal.InstructorPayableAvailable, journal.TransfersConnected}},
}

func init() {
	for _, r := range journalRules {
		journal.Register(journal.Rule{Area: Area, Kind: r.kind, Summary: r.summary, Accounts: r.accounts})
	}
}

func balancingAccount(kind string) journal.AccountID {
	for _, r := range journalRules {
		if r.kind == kind {
			return r.balancing
		}
	}
	return ""
}

// journalKind is the posting kind of a change's movement ("" when the change posts nothing).
func journalKind(c *Change) string {
	switch c.Move.Kind {
	case ledger.KindSale:
		return JournalSale
	case ledger.KindRelease:
		return JournalRelease
	case ledger.KindRefund:
		return JournalRefund
	case ledger.KindRefundReversed:
		return JournalRefundReversed
	case ledger.KindDisputeHold:
		return JournalDispute
	case ledger.KindDisputeUpdate:
		return JournalDisputeEscalated
	case ledger.KindDisputeWon:
		return JournalDisputeWon
	case ledger.KindDisputeLost:
		return JournalDisputeLost
	case ledger.KindPayout:
		return JournalPayout
	case ledger.KindPayoutReversal:
		// One ledger kind, two events: a transfer Stripe refused fails the payout; a transfer that
		// was made and then (partly) reversed leaves it paid.
		if c.Payout != nil && c.Payout.Item.Status == PayoutFailed {
			return JournalPayoutFailed
		}
		return JournalTransferReversed
	}
	return ""
}

// journalEntry is the journal entry of a change, built from the change alone (nil when it moves no
// money — a status update, a release with nothing free, a dispute both opened and won before we saw
// it). It must be called before the change is written (the sale's version is the one read). An
// error is a change the rules cannot post: a bug, refused rather than written unbalanced.
func journalEntry(c *Change) (*journal.Entry, error) {
	kind := journalKind(c)
	if kind == "" || !c.Move.MovesMoney() {
		return nil, nil
	}
	m := c.Move
	e := journal.Entry{Kind: kind, Area: Area, Date: c.Book.At.UTC(), Currency: Currency, Memo: clip(c.Book.Memo, journalMemoMax)}
	if c.Sale != nil && c.Sale.Currency != "" {
		e.Currency = strings.ToLower(c.Sale.Currency)
	}

	// Instructor payable: every bucket that moves, per payee.
	var net int64 // Σ debits − Σ credits so far
	line := func(a journal.AccountID, dr int64, party string) {
		switch {
		case dr > 0:
			e.Lines = append(e.Lines, journal.Line{Account: a, Debit: dr, Party: party})
		case dr < 0:
			e.Lines = append(e.Lines, journal.Line{Account: a, Credit: -dr, Party: party})
		}
		net += dr
	}
	var paid int64
	for _, payee := range m.PayeeIDs() {
		d := m.Payees[payee]
		// A liability grows with a credit: a bucket that grows is credited.
		line(journal.InstructorPayablePending, -d.Pending, payee)
		line(journal.InstructorPayableAvailable, -d.Available, payee)
		line(journal.InstructorPayableHeld, -d.Held, payee)
		paid += d.Paid
	}

	// The customer money the event moves at Stripe (and, for a sale, what the tokens paid).
	var discount int64
	switch kind {
	case JournalSale:
		line(journal.StripeInFlight, m.Gross, "")
		var err error
		if discount, err = saleDiscount(c); err != nil {
			return nil, err
		}
		line(journal.MarketingTokenRedemptions, discount, c.Sale.BuyerID)
	case JournalRefund, JournalRefundReversed:
		line(journal.StripeInFlight, -m.Refunded, "")
	case JournalDispute, JournalDisputeEscalated, JournalDisputeWon, JournalDisputeLost:
		line(journal.StripeInFlight, -m.Withdrawn, "")
	}

	// The rest on the rule's balancing account.
	if net != 0 {
		bal := balancingAccount(kind)
		if bal == "" {
			return nil, apperr.New(apperr.Internal, "journal: a %s change does not balance (%d)", kind, net)
		}
		line(bal, -net, "")
	}
	if len(e.Lines) == 0 {
		return nil, nil // the deltas cancel out: nothing happened to the books
	}

	// The split to the cent: the commission is the platform's share (plus the token-funded
	// discount), a transfer is what was paid.
	switch kind {
	case JournalSale:
		if got := credited(e, journal.RevenueMarketplaceCommission); got != m.Platform+discount {
			return nil, apperr.New(apperr.Internal, "journal: sale commission %d is not the platform's share %d + the discount %d",
				got, m.Platform, discount)
		}
	case JournalPayout, JournalPayoutFailed, JournalTransferReversed:
		if got := credited(e, journal.TransfersConnected); got != paid {
			return nil, apperr.New(apperr.Internal, "journal: transfer %d is not the paid movement %d", got, paid)
		}
	}

	source, id, err := journalSource(c, kind)
	if err != nil {
		return nil, err
	}
	e.Source, e.ID = source, id
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// saleDiscount is the token-funded discount a sale's entry books, read from the sale itself (so an
// entry rebuilt from a stored sale books it too). A negative discount, or one without the rewards
// coupon that funded it, is a bug of the caller (planSale books neither) and refused rather than
// booked as marketing expense nobody can explain.
func saleDiscount(c *Change) (int64, error) {
	if c.Sale == nil || c.Sale.DiscountCents == 0 {
		return 0, nil
	}
	if c.Sale.DiscountCents < 0 || !couponCode(c.Sale.CouponID) {
		return 0, apperr.New(apperr.Internal, "journal: sale %s has a discount of %d without a rewards coupon (%q)",
			c.Sale.ID, c.Sale.DiscountCents, c.Sale.CouponID)
	}
	return c.Sale.DiscountCents, nil
}

// credited is an account's credits minus debits in e.
func credited(e journal.Entry, a journal.AccountID) int64 {
	var n int64
	for _, l := range e.Lines {
		if l.Account == a {
			n += l.Credit - l.Debit
		}
	}
	return n
}

// journalSource is the entry's source object and id. A source that happens at most once keys the
// entry by itself (a charge is sold once, a sale released once, a dispute opened, escalated and
// closed once each, a payout transferred or refused once). Refunds converge a sale to Stripe's list
// in both directions, several at a time, so their entries are keyed by the sale's version they
// write — written once, because that version is written once — and name the refunds as source.
func journalSource(c *Change, kind string) (source, id string, err error) {
	need := func(what string, v string) error {
		if v == "" {
			return apperr.New(apperr.Internal, "journal: a %s change has no %s", kind, what)
		}
		return nil
	}
	switch kind {
	case JournalSale:
		if err := need("sale", saleIDOf(c)); err != nil {
			return "", "", err
		}
		source = cmp.Or(c.Sale.ChargeID, c.Sale.PaymentIntentID, c.Sale.SessionID)
		id = entryID(kind, source)
	case JournalRelease:
		source = saleIDOf(c)
		id = entryID(kind, source)
	case JournalRefund, JournalRefundReversed:
		if err := need("sale", saleIDOf(c)); err != nil {
			return "", "", err
		}
		source = cmp.Or(c.Book.Source, c.Sale.ChargeID, c.Sale.PaymentIntentID, c.Sale.ID)
		id = entryID(kind, c.Sale.ID, "v"+strconv.FormatInt(c.Sale.Version+1, 10))
	case JournalDispute, JournalDisputeEscalated, JournalDisputeWon, JournalDisputeLost:
		source = c.Book.Ref // the dispute id
		id = entryID(kind, source)
	case JournalPayout, JournalPayoutFailed:
		source = c.Book.PayoutID
		id = entryID(kind, source)
	case JournalTransferReversed:
		if err := need("payout", payoutIDOf(c)); err != nil {
			return "", "", err
		}
		source = c.Book.Ref // the transfer id
		id = entryID(kind, source, strconv.FormatInt(c.Payout.Item.ReversedCents, 10))
	}
	if err := need("source", source); err != nil {
		return "", "", err
	}
	return clip(source, journalSourceMax), id, nil
}

func saleIDOf(c *Change) string {
	if c.Sale == nil {
		return ""
	}
	return c.Sale.ID
}

func payoutIDOf(c *Change) string {
	if c.Payout == nil {
		return ""
	}
	return c.Payout.Item.ID
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9._:-]`)

// entryID is kind.part1.part2…, with any character an entry id may not hold replaced and, when one
// was (or the id is too long), a hash of the original parts appended: ids stay distinct and
// deterministic whatever an external id looks like.
func entryID(kind string, parts ...string) string {
	raw := strings.Join(parts, ".")
	safe := idUnsafe.ReplaceAllString(raw, "-")
	id := journal.EntryID(kind, safe)
	if safe == raw && len(id) <= journalIDMax {
		return id
	}
	h := sha256.Sum256([]byte(raw))
	tag := "." + hex.EncodeToString(h[:])[:journalIDHash]
	return clip(id, journalIDMax-len(tag)) + tag
}

// clip cuts s to at most n bytes at a character boundary (stored strings must stay UTF-8).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// errEntryDiffers is the answer to an entry id posted before with other content: a posting rule's
// bug, never silently written over.
func errEntryDiffers(id string) error {
	return apperr.New(apperr.Conflict, "journal entry %q was posted before with other content", id)
}
