package journal

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
)

// Every malformed entry is refused with an apperr.Invalid naming the fault, before anything is
// written.
func TestValidateRefusesEachBadCase(t *testing.T) {
	good := sale("ch_1", "ins_1", day0, 10000)
	if err := good.Validate(); err != nil {
		t.Fatalf("a good entry is refused: %v", err)
	}
	cases := []struct {
		name   string
		change func(e *Entry)
		want   string
	}{
		{"empty id", func(e *Entry) { e.ID = "" }, "id must be"},
		{"id with the key separator", func(e *Entry) { e.ID = kindSale + ".ch#1" }, "id must be"},
		{"id not of its kind", func(e *Entry) { e.ID = "other.ch_1" }, "id must be the kind"},
		{"id is only the kind", func(e *Entry) { e.ID = kindSale + "." }, "id must be the kind"},
		{"kind not registered", func(e *Entry) { e.Kind = "nobody.knows"; e.ID = "nobody.knows.x" }, "not a registered posting rule"},
		{"area not the rule's", func(e *Entry) { e.Area = "payments" }, "is not the rule's area"},
		{"no source", func(e *Entry) { e.Source = "" }, "source must be"},
		{"no date", func(e *Entry) { e.Date = time.Time{} }, "date is not set"},
		{"date before 2000", func(e *Entry) { e.Date = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }, "out of range"},
		{"upper-case currency", func(e *Entry) { e.Currency = "USD" }, "not a lower-case ISO 4217"},
		{"no currency", func(e *Entry) { e.Currency = "" }, "not a lower-case ISO 4217"},
		{"one line", func(e *Entry) { e.Lines = e.Lines[:1] }, "at least two lines"},
		{"too many lines", func(e *Entry) {
			e.Lines = nil
			for i := 0; i < MaxLines+1; i++ {
				e.Lines = append(e.Lines, dr(StripeInFlight, 1))
			}
		}, "at most"},
		{"unknown account", func(e *Entry) { e.Lines[0].Account = "petty_cash" }, "not in the chart"},
		{"account outside the rule", func(e *Entry) { e.Lines[0].Account = StripeBalance }, "not one of rule"},
		{"negative amount", func(e *Entry) { e.Lines[0] = Line{Account: StripeInFlight, Debit: -10000} }, "never negative"},
		{"both sides", func(e *Entry) { e.Lines[0].Credit = 1 }, "exactly one of debit and credit"},
		{"neither side", func(e *Entry) { e.Lines[0].Debit = 0 }, "exactly one of debit and credit"},
		{"unbalanced", func(e *Entry) { e.Lines[0].Debit++ }, "debits 10001 and credits 10000 differ"},
		{"overflow", func(e *Entry) {
			e.Lines = []Line{dr(StripeInFlight, math.MaxInt64), dr(StripeInFlight, 1), cr(RevenueMarketplaceCommission, 1)}
		}, "overflow"},
		{"party of two lines", func(e *Entry) { e.Lines[1].Party = "a\nb" }, "party must be one line"},
		{"memo too long", func(e *Entry) { e.Memo = strings.Repeat("m", 501) }, "memo is longer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := sale("ch_1", "ins_1", day0, 10000)
			tc.change(&e)
			err := e.Validate()
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want Invalid containing %q", err, tc.want)
			}
			if _, err := Items(e); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("Items of a bad entry = %v, want Invalid", err)
			}
		})
	}
}

// The wrap-around an unchecked sum would hide is caught: debits MaxInt64 + MaxInt64 + 2 and the
// same credits both wrap to 0 in int64 arithmetic and would pass as balanced.
func TestValidateCatchesWrapAround(t *testing.T) {
	e := entry(kindAny, "test", "wrap", day0,
		dr(StripeBalance, math.MaxInt64), dr(StripeBalance, math.MaxInt64), dr(StripeBalance, 2),
		cr(Suspense, math.MaxInt64), cr(Suspense, math.MaxInt64), cr(Suspense, 2))
	if err := e.Validate(); !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("Validate = %v, want an overflow", err)
	}
}

func TestChartAccountsHaveTheirNormalSide(t *testing.T) {
	want := map[Type]Side{Asset: Debit, Liability: Credit, Revenue: Credit, ContraRevenue: Debit, Expense: Debit}
	seen := map[Type]bool{}
	for _, a := range Chart() {
		if a.Normal != want[a.Type] || a.Name == "" || a.Description == "" {
			t.Errorf("%s: type %s normal %s (want %s), name %q", a.ID, a.Type, a.Normal, want[a.Type], a.Name)
		}
		seen[a.Type] = true
	}
	if len(seen) != len(want) {
		t.Errorf("types in the chart: %v", seen)
	}
	for _, id := range []AccountID{StripeBalance, StripeInFlight, RevenueSubscriptions, RevenueMarketplaceCommission,
		InstructorPayablePending, InstructorPayableAvailable, InstructorPayableHeld, RefundsSubscriptions, RefundsMarketplace,
		DisputesSubscriptions, DisputesMarketplace, FeesStripeProcessing, FeesDispute, TransfersConnected,
		MarketingTokenRedemptions, CustomerCredit, Suspense} {
		if _, err := Lookup(id); err != nil {
			t.Errorf("Lookup(%s): %v", id, err)
		}
	}
	if _, err := Lookup("petty_cash"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("Lookup of an unknown account = %v, want NotFound", err)
	}
	if got := (Account{Normal: Credit}).Balance(30, 100); got != 70 {
		t.Errorf("credit-normal balance = %d, want 70", got)
	}
}

func TestRegisterRefusesBadRules(t *testing.T) {
	for name, r := range map[string]Rule{
		"duplicate kind":  {Area: "x", Kind: kindSale, Summary: "again", Accounts: []AccountID{StripeBalance, Suspense}},
		"no area":         {Kind: "test.noarea", Summary: "s", Accounts: []AccountID{StripeBalance, Suspense}},
		"bad kind":        {Area: "x", Kind: "Test Sale", Summary: "s", Accounts: []AccountID{StripeBalance, Suspense}},
		"no summary":      {Area: "x", Kind: "test.nosummary", Accounts: []AccountID{StripeBalance, Suspense}},
		"one account":     {Area: "x", Kind: "test.oneacct", Summary: "s", Accounts: []AccountID{StripeBalance}},
		"unknown account": {Area: "x", Kind: "test.unknown", Summary: "s", Accounts: []AccountID{StripeBalance, "petty_cash"}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			Register(r)
		})
	}
	if _, ok := RuleOf("test.unknown"); ok {
		t.Error("a refused rule was registered")
	}
	if !slices.ContainsFunc(Rules(), func(r Rule) bool { return r.Kind == kindSale }) {
		t.Error("Rules does not list a registered rule")
	}
}

// Items: the entry first (conditional), a posting per line, one balance update per account — two
// lines on one account are one update, since DynamoDB refuses two operations on one item.
func TestItemsShape(t *testing.T) {
	e := entry(kindRefund, "marketplace", "re_1", day0,
		Line{Account: InstructorPayablePending, Debit: 3500, Party: "ins_1"},
		Line{Account: InstructorPayablePending, Debit: 3500, Party: "ins_2"},
		dr(RefundsMarketplace, 3000), cr(StripeInFlight, 10000))
	items, err := Items(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != ItemCount(e) || len(items) != 1+4+3 {
		t.Fatalf("%d items, ItemCount %d, want 8", len(items), ItemCount(e))
	}
	if items[0].Put == nil || items[0].Put.ConditionExpression == nil || *items[0].Put.ConditionExpression != "attribute_not_exists(PK)" {
		t.Fatalf("first item is not the conditional entry put: %+v", items[0])
	}
	keys := map[string]bool{}
	for _, it := range items {
		var k string
		switch {
		case it.Put != nil:
			k = keyString(it.Put.Item)
		case it.Update != nil:
			k = keyString(it.Update.Key)
		}
		if keys[k] {
			t.Fatalf("two operations on %s in one transaction", k)
		}
		keys[k] = true
	}
	// Worst case stays well within a transaction's 100 items.
	big := Entry{ID: EntryID(kindAny, "big"), Kind: kindAny, Area: "test", Source: "big", Date: day0, Currency: "usd"}
	for i := 0; i < MaxLines/2; i++ {
		big.Lines = append(big.Lines, dr(chart[i].ID, 1), cr(chart[len(chart)-1-i].ID, 1))
	}
	if n := ItemCount(big); n > 1+2*MaxLines {
		t.Fatalf("ItemCount %d over the documented bound", n)
	}
}

func keyString(item map[string]types.AttributeValue) string {
	return item["PK"].(*types.AttributeValueMemberS).Value + "|" + item["SK"].(*types.AttributeValueMemberS).Value
}
