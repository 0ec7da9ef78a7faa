package marketplace

import (
	"context"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

// Any sequence of review writes and deletions leaves the aggregate equal to the reviews that exist.
func TestRatingDeltasKeepTheAggregateExact(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	reviews := map[int]int{} // learner → rating
	agg := map[string]int64{}
	for i := 0; i < 5000; i++ {
		learner := rng.Intn(50)
		old := reviews[learner]
		next := 0
		if rng.Intn(5) > 0 {
			next = 1 + rng.Intn(5)
		}
		for k, v := range RatingDeltas(old, next) {
			agg[k] += v
		}
		if next == 0 {
			delete(reviews, learner)
		} else {
			reviews[learner] = next
		}
	}
	var count, sum int64
	var hist [6]int64
	for _, r := range reviews {
		count++
		sum += int64(r)
		hist[r]++
	}
	if agg[catalog.CtrRatingCount] != count || agg[catalog.CtrRatingSum] != sum {
		t.Fatalf("aggregate %v, reviews count %d sum %d", agg, count, sum)
	}
	for s := 1; s <= 5; s++ {
		if agg[catalog.CtrStars(s)] != hist[s] {
			t.Fatalf("%d stars: aggregate %d, reviews %d", s, agg[catalog.CtrStars(s)], hist[s])
		}
	}
	if d := RatingDeltas(4, 4); d[catalog.CtrRatingCount] != 0 || d[catalog.CtrRatingSum] != 0 || d[catalog.CtrStars(4)] != 0 {
		t.Fatalf("replacing a rating by itself moves the aggregate: %v", d)
	}
}

func TestPurchaseOf(t *testing.T) {
	paidAt := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	session := func(mod func(*stripe.CheckoutSession)) *stripe.CheckoutSession {
		s := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment,
			PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 999, Currency: "usd",
			ClientReferenceID: "u1", PaymentIntent: &stripe.PaymentIntent{ID: "pi_1"},
			Metadata: map[string]string{"courseId": "crs_01JDZ8K3M4N5P6Q7R8S9T0VWXY", "userId": "u1"}}
		if mod != nil {
			mod(s)
		}
		return s
	}
	p, ok := PurchaseOf(session(nil), paidAt)
	if !ok || p.BuyerID != "u1" || p.AmountCents != 999 || p.PaymentIntentID != "pi_1" || !p.PaidAt.Equal(paidAt) || p.Currency != "usd" {
		t.Fatalf("%+v %v", p, ok)
	}
	for name, mod := range map[string]func(*stripe.CheckoutSession){
		"Subscription": func(s *stripe.CheckoutSession) { s.Mode = stripe.CheckoutSessionModeSubscription },
		"Unpaid":       func(s *stripe.CheckoutSession) { s.PaymentStatus = stripe.CheckoutSessionPaymentStatusUnpaid },
		"NoCourse":     func(s *stripe.CheckoutSession) { delete(s.Metadata, "courseId") },
		"BadCourse":    func(s *stripe.CheckoutSession) { s.Metadata["courseId"] = "COURSE#x" },
		"NoBuyer":      func(s *stripe.CheckoutSession) { delete(s.Metadata, "userId"); s.ClientReferenceID = "" },
		"Zero":         func(s *stripe.CheckoutSession) { s.AmountTotal = 0 },
	} {
		if _, ok := PurchaseOf(session(mod), paidAt); ok {
			t.Errorf("%s: taken for a course sale", name)
		}
	}
}

func TestSaleItemsSplitAndGuard(t *testing.T) {
	w := newWorld(t)
	c := w.course("crs_01JDZ8K3M4N5P6Q7R8S9T0VWXY", "ins", 999)
	p := Purchase{SessionID: "cs_1", PaymentIntentID: "pi_1", BuyerID: "u1", CourseID: c.ID, AmountCents: 999,
		Currency: "usd", PaidAt: t0}
	ch, err := planSale(context.Background(), w.d, p, c, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	items, err := (&dynamoBooks{}).Items(ch)
	if err != nil {
		t.Fatal(err)
	}
	s := *ch.Sale
	if s.Shares[0].Cents != 699 || s.Platform != 300 || s.Status != SalePending || !s.ReleaseAt.Equal(p.PaidAt.Add(RefundWindow)) {
		t.Fatalf("sale %+v", s)
	}
	guard := items[0].Put
	if guard == nil || *guard.ConditionExpression != "attribute_not_exists(PK)" {
		t.Fatalf("items[0] is not a conditional put: %+v", items[0])
	}
	if pk, ok := guard.Item["PK"].(*types.AttributeValueMemberS); !ok || pk.Value != "SALESRC#cs_1" {
		t.Fatalf("items[0] is %+v, want the session guard", guard.Item["PK"])
	}
	// Already enrolled by another sale: no access change beyond the sale's id, and the sale is a duplicate.
	w.books.enrolments[k2("u1", c.ID)] = Enrollment{UserID: "u1", CourseID: c.ID, Status: EnrollActive, Source: SourcePurchase,
		SaleID: "sale_first", SaleIDs: []string{"sale_first"}, Version: 3}
	ch2, err := planSale(context.Background(), w.d, p, c, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	if ch2.Sale.DuplicateOf != "sale_first" || ch2.Listing[catalog.CtrEnrollments] != 0 || ch2.Enrollment == nil ||
		len(ch2.Enrollment.Item.SaleIDs) != 2 {
		t.Fatalf("second sale of a held course: %+v / %+v", ch2.Sale, ch2.Enrollment)
	}
	// A sale in eur is not an error (Stripe would retry it for days): a rejected guard, no sale.
	eur := p
	eur.SessionID, eur.Currency = "cs_2", "eur"
	ch3, err := planSale(context.Background(), w.d, eur, c, "evt_2")
	if err != nil || ch3.Sale != nil || len(ch3.NewPointers) != 1 || ch3.NewPointers[0].Rejected != RejectedCurrency {
		t.Fatalf("a sale in eur: %+v %v", ch3, err)
	}
}

func TestSaleStatus(t *testing.T) {
	money, _, _ := ledger.NewSale(999, ledger.InstructorRule("i"))
	s := Sale{InstructorID: "i", ID: "sale_1", ReleaseAt: time.Now(), Sale: money}
	s.SetKeys()
	if s.Status != SalePending || s.GSI2PK == "" {
		t.Fatalf("new sale: %s %q", s.Status, s.GSI2PK)
	}
	s.Release()
	s.SetKeys()
	if s.Status != SaleAvailable || s.GSI2PK != "" {
		t.Fatalf("released: %s %q", s.Status, s.GSI2PK)
	}
	s.Dispute("dp", "needs_response", 999)
	s.SetKeys()
	if s.Status != SaleDisputed {
		t.Fatalf("disputed: %s", s.Status)
	}
	s.Dispute("dp", ledger.DisputeLost, 999)
	s.SetKeys()
	if s.Status != SaleRefunded {
		t.Fatalf("lost: %s", s.Status)
	}
}

func TestStatementEscapesEverything(t *testing.T) {
	at := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	st := Statement{
		Payout: Payout{ID: "po_2026-12_i", Period: "2026-12", AmountCents: 6999, Currency: "usd", TransferID: "tr_1"},
		From:   at.AddDate(0, -1, 0), To: at,
		Entries: []LedgerEntry{
			{Kind: ledger.KindSale, Memo: `<script>alert("x")</script> & Go`, At: at, Buckets: ledger.Buckets{Pending: 699}},
			{Kind: ledger.KindRefund, Memo: "Go", At: at, Buckets: ledger.Buckets{Available: -699}},
			{Kind: ledger.KindPayout, At: at, Buckets: ledger.Buckets{Available: -6999, Paid: 6999}},
		},
		Balance: ledger.Buckets{Pending: 1398},
	}
	subject, text, body := st.Render()
	if subject != "Your Liberation payout for 2026-12: $69.99" {
		t.Fatalf("subject %q", subject)
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Go") {
		t.Fatalf("HTML not escaped: %s", body)
	}
	for _, want := range []string{"Sales: 1, your share $6.99", "Refunds and lost disputes: 1, reversed $6.99",
		"Payout: $69.99 (Stripe transfer tr_1)", "pending $13.98", `Sale: <script>alert("x")</script> & Go  $6.99`} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestCourseValidation(t *testing.T) {
	str := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	ok := func() createCourseRequest {
		return createCourseRequest{Title: str("Go"), Description: str("Learn Go."), Category: str("development"),
			Level: str("beginner"), Language: str("en"), PriceCents: n(999)}
	}
	r := ok()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*createCourseRequest){
		"NoTitle":      func(r *createCourseRequest) { r.Title = nil },
		"EmptyTitle":   func(r *createCourseRequest) { r.Title = str("  ") },
		"LongTitle":    func(r *createCourseRequest) { r.Title = str(strings.Repeat("x", maxTitle+1)) },
		"NoPrice":      func(r *createCourseRequest) { r.PriceCents = nil },
		"PriceTooLow":  func(r *createCourseRequest) { r.PriceCents = n(98) },
		"PriceTooHigh": func(r *createCourseRequest) { r.PriceCents = n(100000) },
		"Negative":     func(r *createCourseRequest) { r.PriceCents = n(-1) },
		"Level":        func(r *createCourseRequest) { r.Level = str("expert") },
		"Category":     func(r *createCourseRequest) { r.Category = str("cooking") },
		"Language":     func(r *createCourseRequest) { r.Language = str("English") },
		"TooManyTags":  func(r *createCourseRequest) { tags := strings.Split("a b c d e f g h i j k", " "); r.Tags = &tags },
		"LongTag":      func(r *createCourseRequest) { tags := []string{strings.Repeat("t", maxTag+1)}; r.Tags = &tags },
		"Control":      func(r *createCourseRequest) { r.Description = str("bad\x00byte") },
	} {
		r := ok()
		mod(&r)
		if err := r.Validate(); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	free := ok()
	free.PriceCents = n(0)
	tags := []string{" Go ", "go", "Backend"}
	free.Tags = &tags
	if err := free.Validate(); err != nil || strings.Join(*free.Tags, ",") != "go,backend" {
		t.Fatalf("free course with tags: %v %v", err, *free.Tags)
	}
	if r := (&updateCourseRequest{}); r.Validate() != nil || !r.empty() {
		t.Fatal("an empty patch is valid and changes nothing")
	}
	if r := (&updateCourseRequest{Subtitle: str("")}); r.Validate() != nil || r.empty() {
		t.Fatal("an empty subtitle clears the subtitle")
	}
}

func TestCheckUpload(t *testing.T) {
	for _, tc := range []struct {
		kind, ct string
		size     int64
		ok       bool
	}{
		{KindVideo, "video/mp4", MaxVideoBytes, true},
		{KindVideo, "video/mp4", MaxVideoBytes + 1, false},
		{KindDocument, "application/pdf", MaxDocumentBytes, true},
		{KindDocument, "application/pdf", MaxDocumentBytes + 1, false},
		{KindDocument, "video/mp4", 10, false},
		{KindVideo, "application/x-msdownload", 10, false},
		{KindDocument, "text/html", 10, false},
	} {
		err := checkUpload(tc.kind, tc.ct, tc.size)
		if (err == nil) != tc.ok || err != nil && !apperr.Is(err, apperr.Unprocessable) {
			t.Errorf("%s %s %d: %v", tc.kind, tc.ct, tc.size, err)
		}
	}
}

func TestTimes(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-28T12:00:00Z": "2026-12-01T02:00:00Z",
		"2026-12-01T01:59:59Z": "2026-12-01T02:00:00Z",
		"2026-12-01T02:00:00Z": "2027-01-01T02:00:00Z",
	} {
		at, _ := time.Parse(time.RFC3339, in)
		if got := rfc3339(nextPayoutAt(at)); got != want {
			t.Errorf("nextPayoutAt(%s) = %s, want %s", in, got, want)
		}
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if floor := idFloor(at); !(floor <= newID(prefixSale, at)[len(prefixSale):] && newID(prefixSale, at.Add(-time.Millisecond))[len(prefixSale):] < floor) {
		t.Fatalf("idFloor(%s) = %s does not separate ids made before and at it", at, floor)
	}
	if PayoutID("u1", "2026-12") != "po_2026-12_u1" || !ValidPeriod("2026-12") || ValidPeriod("2026-13") || ValidPeriod("26-12") {
		t.Fatal("payout ids and periods")
	}
}

// The facts of a sale: a purchase by someone else than the instructor, and one refund fact per
// counted Stripe refund (Full once the refunds reach the amount); a self-purchase tells nothing.
func TestSaleFacts(t *testing.T) {
	sold := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := Sale{ID: "sale_1", InstructorID: "ins", BuyerID: "ana", CourseID: "crs_1", Currency: "usd", SoldAt: sold,
		ReleaseAt: sold.AddDate(0, 0, 30), Sale: ledger.Sale{Amount: 1000}}
	p, ok := purchaseFact(s)
	if !ok || p.UserID != "ana" || p.PurchaseID != "sale_1" || p.AmountCents != 1000 || !p.RefundWindowEndsAt.Equal(s.ReleaseAt) {
		t.Fatalf("purchase fact %+v %v", p, ok)
	}
	at := sold.Add(time.Hour)
	s.RefundIDs, s.Refunded = map[string]int64{"re_b": 600, "re_a": 400}, 1000
	rs := refundFacts(s, map[string]time.Time{"re_a": sold.Add(time.Minute)}, at)
	if len(rs) != 2 || rs[0].RefundID != "re_a" || rs[0].AmountCents != 400 || !rs[0].RefundedAt.Equal(sold.Add(time.Minute)) ||
		rs[1].RefundID != "re_b" || !rs[1].RefundedAt.Equal(at) || !rs[0].Full || rs[0].DedupeID() == rs[1].DedupeID() {
		t.Fatalf("refund facts %+v", rs)
	}
	s.Refunded = 400
	if rs := refundFacts(s, nil, at); rs[0].Full {
		t.Fatalf("a partial refund is not full: %+v", rs)
	}
	s.BuyerID = "ins"
	if _, ok := purchaseFact(s); ok || len(refundFacts(s, nil, at)) != 0 {
		t.Fatal("an instructor buying their own course earns nothing")
	}
	rv := reviewFact(Review{UserID: "ana", CourseID: "crs_1", Rating: 4})
	if rv.ReviewID != "crs_1/ana" || rv.DedupeID() != reviewFact(Review{UserID: "ana", CourseID: "crs_1", Rating: 2}).DedupeID() {
		t.Fatalf("a rewritten review is the same fact: %+v", rv)
	}
}

// A Checkout Session's discount is token-funded only when it is the rewards coupon the checkout was
// created with (metadata.couponId, which CourseCheckout writes with the session's discounts) and,
// when Stripe sends the breakdown, nothing else; any other discount is reported apart and never
// token-funded. AmountCents stays what the buyer paid.
func TestCheckoutDiscountIsTokenFundedOnlyFromItsRewardsCoupon(t *testing.T) {
	const code = "LIB20-7K3M9Q2X4D"
	breakdown := func(parts ...*stripe.CheckoutSessionTotalDetailsBreakdownDiscount) *stripe.CheckoutSessionTotalDetailsBreakdown {
		return &stripe.CheckoutSessionTotalDetailsBreakdown{Discounts: parts}
	}
	part := func(amount int64, coupon string) *stripe.CheckoutSessionTotalDetailsBreakdownDiscount {
		return &stripe.CheckoutSessionTotalDetailsBreakdownDiscount{Amount: amount,
			Discount: &stripe.Discount{Coupon: &stripe.Coupon{ID: coupon}}}
	}
	for _, tc := range []struct {
		name           string
		coupon         string // metadata.couponId
		discount       int64  // total_details.amount_discount
		breakdown      *stripe.CheckoutSessionTotalDetailsBreakdown
		funded, other  int64
		fundedCouponID string
	}{
		{name: "NoDiscount", coupon: code},
		{name: "RewardsCoupon", coupon: code, discount: 1000, funded: 1000, fundedCouponID: code},
		{name: "RewardsCouponInTheBreakdown", coupon: code, discount: 1000, breakdown: breakdown(part(1000, code)), funded: 1000, fundedCouponID: code},
		{name: "NoCouponOfOurs", discount: 1000, other: 1000},
		{name: "NotARewardsCode", coupon: "SUMMER20", discount: 1000, other: 1000},
		{name: "AnotherCouponApplied", coupon: code, discount: 1000, breakdown: breakdown(part(1000, "LIB20-AAAAAAAAAA")), other: 1000},
		{name: "OurCouponAndAnother", coupon: code, discount: 1500, breakdown: breakdown(part(1000, code), part(500, "SUMMER5")), other: 1500},
		{name: "BreakdownShort", coupon: code, discount: 1500, breakdown: breakdown(part(1000, code)), other: 1500},
		{name: "PromotionCode", coupon: code, discount: 1000, other: 1000, breakdown: breakdown(&stripe.CheckoutSessionTotalDetailsBreakdownDiscount{
			Amount: 1000, Discount: &stripe.Discount{Coupon: &stripe.Coupon{ID: code}, PromotionCode: &stripe.PromotionCode{ID: "promo_1"}}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &stripe.CheckoutSession{ID: "cs_1", Mode: stripe.CheckoutSessionModePayment,
				PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4000, Currency: "usd",
				PaymentIntent: &stripe.PaymentIntent{ID: "pi_1"},
				TotalDetails:  &stripe.CheckoutSessionTotalDetails{AmountDiscount: tc.discount, Breakdown: tc.breakdown},
				Metadata:      map[string]string{"courseId": "crs_01JDZ8K3M4N5P6Q7R8S9T0VWXY", "userId": "u1"}}
			if tc.coupon != "" {
				s.Metadata["couponId"] = tc.coupon
			}
			p, ok := PurchaseOf(s, t0)
			if !ok || p.AmountCents != 4000 || p.DiscountCents != tc.funded || p.CouponID != tc.fundedCouponID || p.OtherDiscountCents != tc.other {
				t.Fatalf("purchase %+v (%v): want funded %d %q, other %d", p, ok, tc.funded, tc.fundedCouponID, tc.other)
			}
		})
	}
}

// A discount that is not the checkout's rewards coupon is not booked as token-funded: the sale is
// booked on what was paid, exactly as an undiscounted one (no marketing line, commission = the
// platform's share), and its audit record names the discount. A Purchase built by hand with a
// "funded" discount but no rewards coupon code gets the same answer. (Refusing the event instead
// would leave a paid buyer without the course and Stripe retrying for three days.)
func TestDiscountWithoutItsRewardsCouponIsNotTokenFunded(t *testing.T) {
	w := newWorld(t)
	c := w.course("crs_01JDZ8K3M4N5P6Q7R8S9T0VWXY", "ins", 5000)
	base := Purchase{SessionID: "cs_1", PaymentIntentID: "pi_1", BuyerID: "u1", CourseID: c.ID, AmountCents: 4000,
		Currency: "usd", PaidAt: t0}
	other, noCode, badCode := base, base, base
	other.OtherDiscountCents = 1000
	noCode.DiscountCents = 1000
	badCode.DiscountCents, badCode.CouponID = 1000, "SUMMER20"
	for name, p := range map[string]Purchase{"Other": other, "NoCouponCode": noCode, "NotARewardsCode": badCode} {
		t.Run(name, func(t *testing.T) {
			ch, err := planSale(context.Background(), w.d, p, c, "evt_1")
			if err != nil {
				t.Fatal(err)
			}
			if s := ch.Sale; s.DiscountCents != 0 || s.CouponID != "" || s.Amount != 4000 || s.Platform != 1200 {
				t.Fatalf("sale %+v", s)
			}
			if got := ch.Book.Details["otherDiscountCents"]; got != "1000" || ch.Book.Details["discountCents"] != "" {
				t.Fatalf("audit details %v", ch.Book.Details)
			}
			e := mustEntry(t, ch)
			for _, l := range e.Lines {
				if l.Account == marketing {
					t.Fatalf("a discount nobody funded booked as token-funded: %+v", e.Lines)
				}
			}
			if got := credited(*e, commission); got != 1200 {
				t.Fatalf("commission %d, want the platform's share 1200", got)
			}
		})
	}
	// The rewards coupon's discount on the same purchase is booked.
	funded := base
	funded.DiscountCents, funded.CouponID = 1000, "LIB20-7K3M9Q2X4D"
	ch, err := planSale(context.Background(), w.d, funded, c, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	if s := ch.Sale; s.DiscountCents != 1000 || s.CouponID != funded.CouponID || ch.Book.Details["discountCents"] != "1000" {
		t.Fatalf("sale %+v, details %v", s, ch.Book.Details)
	}
	if e := mustEntry(t, ch); credited(*e, commission) != 2200 || -credited(*e, marketing) != 1000 {
		t.Fatalf("entry %+v", e.Lines)
	}
}
