package rewards

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// books is the journal as a contract case sees it beside a repository: the entries posted, and a
// backfill posting one alone before the change that would post it.
type books interface {
	entry(t *testing.T, id string) (journal.Entry, bool)
	backfill(t *testing.T, e journal.Entry)
	// postings lists an account's postings effective in [from, to).
	postings(t *testing.T, account journal.AccountID, from, to time.Time) []journal.Posting
}

type memBooks struct{ m *memRepo }

func (b memBooks) entry(_ *testing.T, id string) (journal.Entry, bool) { return b.m.journalEntry(id) }
func (b memBooks) backfill(_ *testing.T, e journal.Entry)              { b.m.postBefore(e) }
func (b memBooks) postings(_ *testing.T, account journal.AccountID, from, to time.Time) []journal.Posting {
	var out []journal.Posting
	for _, e := range b.m.entriesPosted() {
		for _, p := range e.Postings() {
			if p.Account == account && !p.Date.Before(from) && p.Date.Before(to) {
				out = append(out, p)
			}
		}
	}
	return out
}

type tableBooks struct{ jr journal.Repo }

func (b tableBooks) entry(t *testing.T, id string) (journal.Entry, bool) {
	t.Helper()
	e, err := b.jr.Get(context.Background(), id)
	if apperr.Is(err, apperr.NotFound) {
		return journal.Entry{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return e, true
}

func (b tableBooks) backfill(t *testing.T, e journal.Entry) {
	t.Helper()
	if err := b.jr.Post(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func (b tableBooks) postings(t *testing.T, account journal.AccountID, from, to time.Time) []journal.Posting {
	t.Helper()
	var out []journal.Posting
	cursor := ""
	for {
		page, next, err := b.jr.AccountEntries(context.Background(), account, from, to, cursor, journal.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if cursor = next; cursor == "" {
			return out
		}
	}
}

// stripeCredited is what redeem records on a credit Stripe confirmed (its fulfil change).
func stripeCredited(txn string) func(*Redemption) {
	return func(n *Redemption) {
		n.StripeCustomerID, n.BalanceTransaction = "cus_"+n.UserID, txn
		n.CreditCents, n.CreditCurrency = 500, "usd"
	}
}

// expectedCredit is the entry fulfilling red (as read, approved) at `at` with txn posts.
func expectedCredit(t *testing.T, red Redemption, txn string, at time.Time) journal.Entry {
	t.Helper()
	after := red
	after.Status, after.FulfilledAt, after.UpdatedAt = Fulfilled, at, at
	stripeCredited(txn)(&after)
	es, err := redemptionEntries(red, after)
	if err != nil || len(es) != 1 {
		t.Fatalf("%+v %v", es, err)
	}
	return es[0]
}

// testJournalContract: a redemption's write and its journal entries are one transaction on the
// repository as on the fake — posted exactly when the write is, nothing posted by a write whose own
// condition failed, an entry already posted with the same content letting the write through, one
// with other content refusing it.
func testJournalContract(t *testing.T, r Repo, b books) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	run := ids.ULID(now)
	d := (&Deps{Clock: fixedClock{now}}).With(r)
	user := "cy-" + run
	if _, _, err := d.Post(ctx, user, func(context.Context, Account) (Plan, error) {
		return Plan{Change: Change{Kind: KindAdjust, Delta: 10000, Earned: 10000}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	create := func(t *testing.T, reward string) Redemption {
		t.Helper()
		red, err := d.CreateRedemption(ctx, user, "", RedemptionRequest{RewardID: reward}, "req")
		if err != nil {
			t.Fatal(err)
		}
		return red
	}
	// approve claims a coupon or a credit for its approval, as redeem does before calling Stripe.
	approve := func(t *testing.T, red Redemption) Redemption {
		t.Helper()
		c, err := d.Claim(ctx, red, ActApprove, "root", "req", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	read := func(t *testing.T, id string) Redemption {
		t.Helper()
		x, err := r.Redemption(ctx, user, id)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}

	t.Run("CreditPostsWithItsFulfilment", func(t *testing.T) {
		red := approve(t, create(t, rewardcatalog.SubscriptionCredit))
		want := expectedCredit(t, read(t, red.ID), "cbtxn_a", now)
		acct, _ := r.Account(ctx, user)
		done, err := d.Transition(ctx, red, ActFulfil, "root", "req", stripeCredited("cbtxn_a"))
		if err != nil || done.Status != Fulfilled {
			t.Fatalf("%+v %v", done, err)
		}
		got, ok := b.entry(t, want.ID)
		if !ok || !journal.Same(got, want) {
			t.Fatalf("posted %+v %v, want %+v", got, ok, want)
		}
		if x := read(t, red.ID); x.CreditCents != 500 || x.CreditCurrency != "usd" || x.BalanceTransaction != "cbtxn_a" {
			t.Fatalf("recorded %+v", x)
		}
		if a, _ := r.Account(ctx, user); a.Held != acct.Held-red.Cost || a.Balance != acct.Balance-red.Cost {
			t.Fatalf("tokens %+v, were %+v", a, acct)
		}
		// Written again (the e-mail recorded): posts nothing more, and a stale copy is refused.
		if _, err := d.UpdateRedemption(ctx, done, func(n *Redemption) { n.NotifiedStatus = Fulfilled }); err != nil {
			t.Fatal(err)
		}
		if _, err := d.UpdateRedemption(ctx, done, func(n *Redemption) { n.Note = "x" }); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a stale update: %v", err)
		}
		if got, _ := b.entry(t, want.ID); !journal.Same(got, want) {
			t.Fatalf("changed %+v", got)
		}
	})

	t.Run("AStaleWritePostsNothing", func(t *testing.T) {
		red := approve(t, create(t, rewardcatalog.SubscriptionCredit))
		cur := read(t, red.ID)
		after := cur
		after.Status, after.FulfilledAt, after.UpdatedAt, after.Version = Fulfilled, now, now, cur.Version+1
		stripeCredited("cbtxn_b")(&after)
		w, err := redemptionWrite(cur, after, cur.Version-1) // over a version that is gone
		if err != nil || len(w.Entries) != 1 {
			t.Fatalf("%+v %v", w, err)
		}
		a, _ := r.Account(ctx, user)
		n, en, _ := a.Apply(Change{Kind: KindRedeem, Delta: -cur.Cost, HeldDelta: -cur.Cost, SourceID: cur.ID}, now)
		err = r.Commit(ctx, Movement{From: a, To: n, Entry: en, At: now, Writes: []Write{{Redemption: &w}}})
		var wf *WriteFailed
		if !errors.As(err, &wf) || len(wf.Writes) != 1 || wf.Writes[0] != 0 {
			t.Fatalf("a stale redemption in a movement: %v", err)
		}
		if _, ok := b.entry(t, w.Entries[0].ID); ok {
			t.Fatal("the entry was posted beside a failed write")
		}
		// A stale account with a current redemption: the account's condition fails, nothing posts.
		w.Read = cur.Version
		stale := a
		stale.Version--
		err = r.Commit(ctx, Movement{From: stale, To: n, Entry: en, At: now, Writes: []Write{{Redemption: &w}}})
		if !store.IsConditionFailed(err) || errors.As(err, &wf) {
			t.Fatalf("a stale account: %v", err)
		}
		if _, ok := b.entry(t, w.Entries[0].ID); ok {
			t.Fatal("the entry was posted beside a stale account")
		}
		// Saved alone over a stale version: the same.
		w.Read = cur.Version - 1
		au := audit.Entry{Actor: "root", Action: "redemption.fulfil", Target: "redemption:" + cur.ID, RequestID: "req"}
		if err := r.SaveRedemption(ctx, w, &au); !store.IsConditionFailed(err) {
			t.Fatalf("a stale save: %v", err)
		}
		if _, ok := b.entry(t, w.Entries[0].ID); ok {
			t.Fatal("the entry was posted beside a stale save")
		}
		if x := read(t, cur.ID); x.Status != Approved || x.Version != cur.Version {
			t.Fatalf("written anyway %+v", x)
		}
		// Saved alone over the version read: the write and its entry.
		w.Read = cur.Version
		if err := r.SaveRedemption(ctx, w, &au); err != nil {
			t.Fatal(err)
		}
		if got, ok := b.entry(t, w.Entries[0].ID); !ok || !journal.Same(got, w.Entries[0]) {
			t.Fatalf("saved without its entry: %+v %v", got, ok)
		}
	})

	t.Run("PostedBeforeWithTheSameContent", func(t *testing.T) {
		red := approve(t, create(t, rewardcatalog.SubscriptionCredit))
		want := expectedCredit(t, read(t, red.ID), "cbtxn_c", now)
		b.backfill(t, want)
		done, err := d.Transition(ctx, red, ActFulfil, "root", "req", stripeCredited("cbtxn_c"))
		if err != nil || done.Status != Fulfilled {
			t.Fatalf("the change after its backfill: %+v %v", done, err)
		}
		if x := read(t, red.ID); x.Status != Fulfilled {
			t.Fatalf("not written %+v", x)
		}
		if got, _ := b.entry(t, want.ID); !journal.Same(got, want) {
			t.Fatalf("entry %+v", got)
		}
		n := 0
		for _, p := range b.postings(t, journal.CustomerCredit, now.Add(-time.Hour), now.Add(time.Hour)) {
			if p.EntryID == want.ID {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the entry's customer_credit posting is there %d times", n)
		}
	})

	t.Run("PostedBeforeWithOtherContentRefusesTheChange", func(t *testing.T) {
		red := approve(t, create(t, rewardcatalog.SubscriptionCredit))
		other := expectedCredit(t, read(t, red.ID), "cbtxn_d", now)
		other.Lines[0].Debit, other.Lines[1].Credit = 499, 499
		b.backfill(t, other)
		acct, _ := r.Account(ctx, user)
		_, err := d.Transition(ctx, red, ActFulfil, "root", "req", stripeCredited("cbtxn_d"))
		if apperr.CodeOf(err) != apperr.Conflict || store.IsConditionFailed(err) {
			t.Fatalf("other content: %v", err)
		}
		if x := read(t, red.ID); x.Status != Approved {
			t.Fatalf("written anyway %+v", x)
		}
		if a, _ := r.Account(ctx, user); a.Held != acct.Held || a.Balance != acct.Balance {
			t.Fatalf("tokens moved %+v, were %+v", a, acct)
		}
		if got, _ := b.entry(t, other.ID); !journal.Same(got, other) {
			t.Fatalf("entry replaced %+v", got)
		}
	})

	t.Run("CouponPostsNothing", func(t *testing.T) {
		red := approve(t, create(t, rewardcatalog.CourseCoupon))
		done, err := d.Transition(ctx, red, ActFulfil, "root", "req", func(n *Redemption) { n.CouponCode = "LIB20-" + run[len(run)-10:] })
		if err != nil || done.Status != Fulfilled {
			t.Fatalf("%+v %v", done, err)
		}
		for _, k := range []string{JournalCredit, JournalCreditRevoked} {
			if _, ok := b.entry(t, journal.EntryID(k, red.ID)); ok {
				t.Fatalf("a coupon posted %s", k)
			}
		}
		for _, acct := range []journal.AccountID{journal.MarketingTokenRedemptions, journal.CustomerCredit} {
			for _, p := range b.postings(t, acct, now.Add(-time.Hour), now.Add(time.Hour)) {
				if p.Source == red.ID {
					t.Fatalf("a coupon posted %+v", p)
				}
			}
		}
	})
}

func TestMemRepoJournalContract(t *testing.T) {
	m := newMemRepo()
	testJournalContract(t, m, memBooks{m})
}

// On minidyn in `go test`, on moto with the integration tag (backend_*_test.go).
func TestDynamoRepoJournalContract(t *testing.T) {
	s := newTestStore(t, clock.System{})
	testJournalContract(t, NewRepo(s), tableBooks{journal.Repo{S: s}})
}
