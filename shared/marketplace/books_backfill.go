package marketplace

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
)

// The marketplace's backfill (docs/books.md "Backfill"): sales and payouts booked before the
// journal get their entries, built by journalEntry from the same ledger movements as live posting.
//
// A sale whose mkt.sale entry is in the journal was booked with the journal running: every later
// event of it was posted live, so nothing of it is backfilled. Any other sale is replayed through
// the ledger package from NewSale, following its instructor ledger (the marketplace's own record of
// each movement, with its time): refunds converging to the refunds counted then, the release, each
// dispute's hold and decision — each movement becomes the entry live posting made, dated when it
// happened. The replay must end in exactly the sale's stored state; if the ledger does not explain
// it, every order of the sale's refunds, release and disputes is tried (dated from payments'
// records of them, else the sale's), and a sale nothing explains is skipped for a person.
//
// Release and dispute entries have their live ids (mkt.release.<sale>, mkt.dispute*.<dispute>).
// Refund entries' live ids name the sale's version at the time, which no record keeps: replayed,
// they are mkt.refund.<sale>.backfill<n> (and mkt.refund_reversed.…). A sale booked before the
// journal and refunded after it has live refund entries of its own: it is skipped for a person,
// never posted twice.
//
// A payout is booked once its transfer was reserved (mkt.payout.<payout>, dated when the payout was
// created), failed (mkt.payout_failed, at its last update) and reversed (one
// mkt.transfer_reversed.<transfer>.<reversed total>, at its last update) — the live ids, so a
// payout whose events were posted live finds them; one whose mkt.payout entry is there is live.

func init() {
	journal.RegisterBackfill(journal.Backfiller{Area: Area, Types: []string{"sale", "payout"}, Entries: backfillEntries})
}

// maxRefundProbes bounds the live refund entry ids looked for per sale (one per sale version).
const maxRefundProbes = 200

func backfillEntries(ctx context.Context, s *store.Store, item map[string]types.AttributeValue) (journal.Backfill, error) {
	var kind struct {
		Type string `dynamodbav:"type"`
	}
	if err := store.DecodeItem(item, &kind); err != nil {
		return journal.Backfill{}, err
	}
	r := journal.Repo{S: s}
	switch kind.Type {
	case "sale":
		var sale Sale
		if err := store.DecodeItem(item, &sale); err != nil {
			return journal.Backfill{}, err
		}
		return saleBackfill(ctx, r, sale)
	case "payout":
		var po Payout
		if err := store.DecodeItem(item, &po); err != nil {
			return journal.Backfill{}, err
		}
		return payoutBackfill(ctx, r, po)
	}
	return journal.Backfill{}, nil
}

// inJournal reports whether the journal has an entry with this id.
func inJournal(ctx context.Context, r journal.Repo, id string) (bool, error) {
	_, err := r.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

func saleBackfill(ctx context.Context, r journal.Repo, sale Sale) (journal.Backfill, error) {
	// Live posting keyed the sale's entry by what the sale knew when it was booked (its charge, else
	// its PaymentIntent, else its session); a charge learned later (from a refund) changed nothing
	// there, so each is looked for.
	for _, src := range []string{sale.ChargeID, sale.PaymentIntentID, sale.SessionID} {
		if src == "" {
			continue
		}
		live, err := inJournal(ctx, r, entryID(JournalSale, src))
		if err != nil || live {
			return journal.Backfill{Live: live}, err
		}
	}
	if sale.Version > maxRefundProbes {
		return journal.Backfill{Skip: "sale " + sale.ID + " has too many versions to look for refunds posted live"}, nil
	}
	for v := int64(1); v <= sale.Version; v++ {
		for _, kind := range []string{JournalRefund, JournalRefundReversed} {
			found, err := inJournal(ctx, r, entryID(kind, sale.ID, "v"+strconv.FormatInt(v, 10)))
			if err != nil {
				return journal.Backfill{}, err
			}
			if found {
				return journal.Backfill{Skip: "sale " + sale.ID + " was booked before the journal and refunded after it: " +
					"its refunds were posted live, the rest needs a person"}, nil
			}
		}
	}
	when, err := saleTimes(ctx, r.S, sale)
	if err != nil {
		return journal.Backfill{}, err
	}
	timeline, err := saleLedger(ctx, r.S, sale)
	if err != nil {
		return journal.Backfill{}, err
	}
	// The sale's own ledger tells its movements in order: replayed as they happened, each entry is
	// the one live posting made, to the cent and the day.
	// A dispute the ledger never saw goes where the replay ends in the stored state: after every
	// movement first, then earlier.
	moves := len(ledgerMoves(timeline))
	for at := moves; at >= 0; at-- {
		entries, state, err := replaySale(sale, when, []replayStep{ledgerStep(timeline, at)})
		if err != nil {
			return journal.Backfill{}, err
		}
		if sameLedger(state, sale.Sale) {
			return journal.Backfill{Entries: entries}, nil
		}
		if len(unseenDisputes(sale, ledgerMoves(timeline))) == 0 {
			break // the position changes nothing
		}
	}
	// A ledger that does not explain the stored state (entries missing): every order of the sale's
	// refunds, release and disputes is tried for one that does.
	tried := 1
	for _, order := range permutations([]replayStep{refundsStep, releaseStep, disputesStep}) {
		tried++
		entries, state, err := replaySale(sale, when, order)
		if err != nil {
			return journal.Backfill{}, err
		}
		if sameLedger(state, sale.Sale) {
			return journal.Backfill{Entries: entries}, nil
		}
	}
	return journal.Backfill{Skip: "sale " + sale.ID + ": neither its ledger nor any order of its refunds, release and disputes " +
		"replays to its stored state (" + strconv.Itoa(tried) + " tried)"}, nil
}

// ledgerStep replays the sale's movements as its instructor ledger recorded them, in time order:
// refunds converging to the refunds counted then (the ledger entry's Ref), the release, each
// dispute's hold and decision. A dispute the ledger never saw (its hold moved no instructor money:
// the shares were refunded or held already) is opened, and decided if it was, just before movement
// unseenAt (len: after them all), dated when payments saw it opened, else at the movement before.
func ledgerStep(timeline []LedgerEntry, unseenAt int) replayStep {
	return func(stored Sale, cur *Sale, when saleEvents, book bookFunc) error {
		moves := ledgerMoves(timeline)
		at := stored.SoldAt.UTC()
		unseen := func() error {
			for _, id := range unseenDisputes(stored, moves) {
				st := stored.Disputes[id]
				opened := orZero(when.disputeOpened[id], at)
				decided := orZero(when.disputeDecided[id], opened)
				if err := openAndDecide(cur, id, st, opened, decided, book); err != nil {
					return err
				}
			}
			return nil
		}
		cents := maps.Clone(stored.RefundIDs)
		if cents == nil {
			cents = map[string]int64{}
		}
		maps.Copy(cents, stored.ReversedRefundIDs)
		counted := map[string]int64{}
		refunds := 0
		for i, le := range moves {
			if i == unseenAt {
				if err := unseen(); err != nil {
					return err
				}
			}
			at = le.At.UTC()
			b := booking{At: at}
			switch le.Kind {
			case ledger.KindRelease:
				if err := book(cur.Release(), b, ""); err != nil {
					return err
				}
			case ledger.KindRefund, ledger.KindRefundReversed:
				now := map[string]int64{}
				var total int64
				for _, id := range strings.Split(le.Ref, ",") {
					if c, ok := cents[id]; ok && id != "" {
						now[id] = c
						total += c
					}
				}
				b.Ref, b.Source = le.Ref, changedRefunds(counted, now)
				counted = now
				refunds++
				if err := book(cur.Refund(total), b, "backfill"+strconv.Itoa(refunds)); err != nil {
					return err
				}
			case ledger.KindDisputeHold:
				st, ok := stored.Disputes[le.Ref]
				if !ok {
					continue
				}
				b.Ref = le.Ref
				m, _ := cur.Dispute(le.Ref, openStatus(st.Status), st.Amount)
				if err := book(m, b, ""); err != nil {
					return err
				}
			case ledger.KindDisputeWon, ledger.KindDisputeLost:
				st, ok := stored.Disputes[le.Ref]
				if !ok {
					continue
				}
				b.Ref = le.Ref
				m, _ := cur.Dispute(le.Ref, st.Status, st.Amount)
				if err := book(m, b, ""); err != nil {
					return err
				}
			}
		}
		if unseenAt >= len(moves) {
			if err := unseen(); err != nil {
				return err
			}
		}
		return disputesStep(stored, cur, when, book) // the rest: a decided dispute moves no more
	}
}

// ledgerMoves are a sale's ledger entries as movements in time order, one per movement (a movement
// has one entry per payee); within one instant (a sale booked late books its disputes with it), a
// dispute's hold before its decision — ledger ids do not sort by that.
func ledgerMoves(timeline []LedgerEntry) []LedgerEntry {
	sorted := slices.Clone(timeline)
	rank := map[string]int{ledger.KindDisputeHold: 1, ledger.KindDisputeWon: 2, ledger.KindDisputeLost: 2}
	slices.SortStableFunc(sorted, func(a, b LedgerEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return rank[a.Kind] - rank[b.Kind]
	})
	seen := map[string]bool{}
	var out []LedgerEntry
	for _, le := range sorted {
		key := le.At.UTC().Format(time.RFC3339Nano) + "|" + le.Kind + "|" + le.Ref
		if !seen[key] {
			seen[key] = true
			out = append(out, le)
		}
	}
	return out
}

// unseenDisputes are the sale's disputes no ledger movement names, by id.
func unseenDisputes(stored Sale, moves []LedgerEntry) []string {
	named := map[string]bool{}
	for _, le := range moves {
		switch le.Kind {
		case ledger.KindDisputeHold, ledger.KindDisputeWon, ledger.KindDisputeLost:
			named[le.Ref] = true
		}
	}
	var out []string
	for _, id := range slices.Sorted(maps.Keys(stored.Disputes)) {
		if !named[id] {
			out = append(out, id)
		}
	}
	return out
}

// openAndDecide opens a dispute as Stripe did (openStatus) and moves it to its stored status.
func openAndDecide(cur *Sale, id string, st ledger.DisputeState, opened, decided time.Time, book bookFunc) error {
	steps := []string{st.Status}
	if st.Status != openStatus(st.Status) {
		steps = []string{openStatus(st.Status), st.Status}
	}
	for i, status := range steps {
		m, changed := cur.Dispute(id, status, st.Amount)
		if !changed {
			continue // replayed from the ledger already
		}
		at := opened
		if i > 0 {
			at = decided
		}
		if err := book(m, booking{At: at, Ref: id}, ""); err != nil {
			return err
		}
	}
	return nil
}

// openStatus is the status a dispute is opened in on replay: an inquiry for one that closed as an
// inquiry, else a chargeback (Stripe withdrew its funds when it opened).
func openStatus(final string) string {
	if final == ledger.DisputeWarningClose || strings.HasPrefix(final, "warning_") {
		return "warning_needs_response"
	}
	return "needs_response"
}

// saleEvents are the times a replay dates its entries at.
type saleEvents struct {
	refunds        time.Time
	disputeOpened  map[string]time.Time
	disputeDecided map[string]time.Time
	released       time.Time
	fallback       time.Time
}

// saleTimes reads payments' records of the sale's refunds and disputes for their times.
func saleTimes(ctx context.Context, s *store.Store, sale Sale) (saleEvents, error) {
	ev := saleEvents{fallback: sale.SoldAt.UTC(), released: sale.ReleaseAt.UTC(),
		disputeOpened: map[string]time.Time{}, disputeDecided: map[string]time.Time{}}
	if sale.ReleasedAt != nil {
		ev.released = sale.ReleasedAt.UTC()
	}
	pay := payments.Repo{S: s}
	if sale.PaymentID != "" && (len(sale.RefundIDs) > 0 || len(sale.ReversedRefundIDs) > 0) {
		refunds, err := pay.Refunds(ctx, sale.BuyerID, sale.PaymentID)
		if err != nil {
			return ev, err
		}
		for _, rf := range refunds {
			_, counted := sale.RefundIDs[rf.ID]
			_, reversed := sale.ReversedRefundIDs[rf.ID]
			if (counted || reversed) && rf.CreatedAt.After(ev.refunds) {
				ev.refunds = rf.CreatedAt.UTC()
			}
		}
	}
	for id := range sale.Disputes {
		d, err := pay.Dispute(ctx, sale.BuyerID, id)
		switch {
		case apperr.Is(err, apperr.NotFound):
			continue
		case err != nil:
			return ev, err
		}
		ev.disputeOpened[id], ev.disputeDecided[id] = d.OpenedAt.UTC(), d.UpdatedAt.UTC()
	}
	return ev, nil
}

func orZero(t, fallback time.Time) time.Time {
	if t.IsZero() {
		return fallback
	}
	return t
}

// replayStep applies one kind of the sale's events to the replayed sale, calling book per movement.
type replayStep func(stored Sale, cur *Sale, when saleEvents, book bookFunc) error

// bookFunc turns a replayed movement into its entry (idTag: see replaySale).
type bookFunc func(m ledger.Movement, b booking, idTag string) error

func refundsStep(stored Sale, cur *Sale, when saleEvents, book bookFunc) error {
	var counted, reversed int64
	for _, c := range stored.RefundIDs {
		counted += c
	}
	for _, c := range stored.ReversedRefundIDs {
		reversed += c
	}
	at := orZero(when.refunds, when.fallback)
	ids := func(m map[string]int64) string { return strings.Join(slices.Sorted(maps.Keys(m)), ",") }
	if reversed > 0 { // they counted first, then failed or were canceled
		all := maps.Clone(stored.RefundIDs)
		if all == nil {
			all = map[string]int64{}
		}
		maps.Copy(all, stored.ReversedRefundIDs)
		if err := book(cur.Refund(counted+reversed), booking{At: at, Source: ids(all), Ref: ids(all)}, "backfill"); err != nil {
			return err
		}
	}
	return book(cur.Refund(counted), booking{At: at, Source: ids(stored.RefundIDs), Ref: ids(stored.RefundIDs)}, "backfill")
}

func releaseStep(stored Sale, cur *Sale, when saleEvents, book bookFunc) error {
	if !stored.Released {
		return nil
	}
	return book(cur.Release(), booking{At: when.released}, "")
}

// disputesStep opens each dispute as Stripe does (a chargeback, or an inquiry for one that closed
// as an inquiry) and then decides it, so a dispute gets the entries live posting made for it.
func disputesStep(stored Sale, cur *Sale, when saleEvents, book bookFunc) error {
	for _, id := range slices.Sorted(maps.Keys(stored.Disputes)) {
		opened := orZero(when.disputeOpened[id], when.fallback)
		if err := openAndDecide(cur, id, stored.Disputes[id], opened, orZero(when.disputeDecided[id], opened), book); err != nil {
			return err
		}
	}
	return nil
}

// replaySale replays the stored sale's events in one order and returns the entries and the state.
func replaySale(stored Sale, when saleEvents, order []replayStep) ([]journal.Entry, ledger.Sale, error) {
	payees := make([]ledger.Payee, 0, len(stored.Shares))
	for _, sh := range stored.Shares {
		payees = append(payees, ledger.Payee{ID: sh.PayeeID, BasisPoints: sh.BasisPoints})
	}
	money, first, err := ledger.NewSale(stored.Amount, payees)
	if err != nil {
		return nil, ledger.Sale{}, apperr.Wrap(err, apperr.Internal, "replay sale %s", stored.ID)
	}
	cur := stored
	cur.Sale, cur.Version, cur.RefundIDs, cur.ReversedRefundIDs, cur.ReleasedAt = money, 0, nil, nil, nil
	var out []journal.Entry
	book := func(m ledger.Movement, b booking, idTag string) error {
		b.SaleID, b.CourseID, b.Memo = stored.ID, stored.CourseID, stored.CourseTitle
		snapshot := cur
		e, err := journalEntry(&Change{Book: b, Move: m, Sale: &snapshot})
		if err != nil || e == nil {
			return err
		}
		if idTag != "" { // refunds: their live ids name a version the replay cannot know
			e.ID = entryID(e.Kind, stored.ID, idTag)
			if err := e.Validate(); err != nil {
				return err
			}
		}
		out = append(out, *e)
		return nil
	}
	if err := book(first, booking{At: stored.SoldAt.UTC()}, ""); err != nil {
		return nil, ledger.Sale{}, err
	}
	for _, step := range order {
		if err := step(stored, &cur, when, book); err != nil {
			return nil, ledger.Sale{}, err
		}
	}
	return out, cur.Sale, nil
}

// sameLedger compares two sale states (nil and empty maps alike).
func sameLedger(a, b ledger.Sale) bool {
	norm := func(s ledger.Sale) ledger.Sale {
		if len(s.Disputes) == 0 {
			s.Disputes = nil
		}
		for id, d := range s.Disputes {
			if len(d.Held) == 0 {
				d.Held = nil
				s.Disputes[id] = d
			}
		}
		return s
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// permutations lists every order of steps (3 steps: 6 orders), the live order first.
func permutations(steps []replayStep) [][]replayStep {
	if len(steps) <= 1 {
		return [][]replayStep{steps}
	}
	var out [][]replayStep
	for i := range steps {
		rest := append(append([]replayStep{}, steps[:i]...), steps[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]replayStep{steps[i]}, p...))
		}
	}
	return out
}

func payoutBackfill(ctx context.Context, r journal.Repo, po Payout) (journal.Backfill, error) {
	if po.AmountCents <= 0 || (po.Status != PayoutTransferring && po.Status != PayoutPaid && po.Status != PayoutFailed) {
		return journal.Backfill{}, nil // carried: nothing moved
	}
	live, err := inJournal(ctx, r, entryID(JournalPayout, po.ID))
	if err != nil || live {
		return journal.Backfill{Live: live}, err
	}
	var out []journal.Entry
	add := func(m ledger.Movement, b booking, item Payout) error {
		b.PayoutID = po.ID
		e, err := journalEntry(&Change{Book: b, Move: m, Payout: &Versioned[Payout]{Item: item}})
		if err != nil || e == nil {
			return err
		}
		out = append(out, *e)
		return nil
	}
	reserved := po
	reserved.Status, reserved.ReversedCents = PayoutTransferring, 0
	if err := add(ledger.PayoutMovement(po.InstructorID, po.AmountCents), booking{At: po.CreatedAt.UTC()}, reserved); err != nil {
		return journal.Backfill{}, err
	}
	switch {
	case po.Status == PayoutFailed:
		if err := add(ledger.PayoutReversal(po.InstructorID, po.AmountCents), booking{At: po.UpdatedAt.UTC()}, po); err != nil {
			return journal.Backfill{}, err
		}
	case po.ReversedCents > 0 && po.TransferID == "":
		return journal.Backfill{Skip: "payout " + po.ID + " was reversed but names no transfer"}, nil
	case po.ReversedCents > 0:
		if err := add(ledger.PayoutReversal(po.InstructorID, po.ReversedCents), booking{At: po.UpdatedAt.UTC(), Ref: po.TransferID}, po); err != nil {
			return journal.Backfill{}, err
		}
	}
	return journal.Backfill{Entries: out}, nil
}
