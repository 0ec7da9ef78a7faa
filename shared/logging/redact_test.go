package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// Each kind is found and replaced by its marker; the rest of the string is kept.
func TestRedactEachKind(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
	cases := []struct {
		name, in, want string
		kind           Kind
	}{
		{"email", "to alice.smith+x@example.co.uk failed", "to [redacted email] failed", Email},
		{"email in angle brackets (SMTP)", "550 5.1.1 <bob@mail.example.org>: Recipient address rejected", "550 5.1.1 <[redacted email]>: Recipient address rejected", Email},
		{"email url-encoded", "GET /users?email=carol%40example.com", "GET /users?email=[redacted email]", Email},
		{"SES identity", "MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: dan@example.net",
			"MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: [redacted email]", Email},
		{"jwt", "token " + jwt + " rejected", "token [redacted jwt] rejected", JWT},
		{"jwt alg none", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. ok", "[redacted jwt] ok", JWT},
		{"bearer opaque", "Authorization: Bearer 0123456789abcdefXYZ-._~+/=", "Authorization: Bearer [redacted bearer-token]", BearerToken},
		{"bearer lower case", "authorization=bearer AbCdEfGhIjKlMnOpQrSt", "authorization=Bearer [redacted bearer-token]", BearerToken},
		{"stripe live key", "key sk_live_51Habcdefghijklmnop used", "key [redacted stripe-secret] used", StripeSecret},
		{"stripe test key", "sk_test_localtest", "[redacted stripe-secret]", StripeSecret},
		{"restricted key", "rk_live_abcdefgh1234", "[redacted stripe-secret]", StripeSecret},
		{"webhook secret", "secret=whsec_localtest_secret;", "secret=[redacted stripe-secret];", StripeSecret},
		{"card plain", "card 4242424242424242 declined", "card [redacted card-number] declined", CardNumber},
		{"card spaces", "pan: 4000 0566 5566 5556.", "pan: [redacted card-number].", CardNumber},
		{"card dashes", "5555-5555-5555-4444", "[redacted card-number]", CardNumber},
		{"amex 4-6-5", "amex 3782 822463 10005", "amex [redacted card-number]", CardNumber},
		{"two cards in a row", "4242424242424242 5555555555554444", "[redacted card-number] [redacted card-number]", CardNumber},
		{"card then a number", "4242 4242 4242 4242 9999", "[redacted card-number] 9999", CardNumber},
		{"card in quotes (JSON)", `{"n":"4242424242424242"}`, `{"n":"[redacted card-number]"}`, CardNumber},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Redact(c.in); got != c.want {
				t.Errorf("Redact(%q)\n got  %q\n want %q", c.in, got, c.want)
			}
			if got := Find(c.in); !slices.Contains(got, c.kind) {
				t.Errorf("Find(%q) = %v, want it to contain %s", c.in, got, c.kind)
			}
		})
	}
}

// What must stay: our ids, times, amounts, Stripe object ids and numbers that are not cards.
func TestRedactLeavesLookAlikes(t *testing.T) {
	keep := []string{
		"01HZY3K6Q2W4M8T0V5X7C9B1N3",        // ULID
		"01ARZ3NDEKTSV4RRFFQ69G5FAV",        // ULID
		"2026-11-28T10:15:30.123456789Z",    // RFC 3339 time
		"2026-11-28 10:15:30 +0000 UTC",     // Go's time.String
		"1767225600000",                     // Unix ms (starts with 1)
		"1767225600123456789",               // Unix ns
		"amount 4999 EUR, total 1234567.89", // amounts
		"12.3456789012345",                  // a decimal
		"cus_4242424242424242",              // Stripe ids with digits
		"pi_3MtwBwLkdIwHu7ix28a3tqPa ch_3MmlLrLkdIwHu7ix0snN0B15 in_1MtHbELkdIwHu7ixl4OzzPMv",
		"evt_1NG8Du2eZvKYlo2CUI79vXWy",              // event id
		"4242424242424241",                          // 16 digits, fails Luhn
		"4242 4242 4242 4241",                       // grouped, fails Luhn
		"1111222233334444",                          // Luhn-valid but starts with 1 (no card network)
		"42424242424242424242",                      // 20 digits: not a card
		"order/4242424242424242",                    // a path segment
		"v4242424242424242",                         // part of a word
		"receipts@ is not an address, nor is @home", // an @ alone
		"user alice, pkg@v1.2.3",                    // a module version
		"a bearer token is required",                // prose about tokens
		"pk_live_51Habcdefghijklmnop",               // publishable key: public by design
		"task_test_abcdefgh",                        // sk_test_ inside a word
		"1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7",           // a list of small numbers
		"4242-42-42 4242",                           // groups shorter than 3 never join
		"sub-4a5f9c2e-8b1d-4c3a-9e7f-0a1b2c3d4e5f",  // a UUID
		"PK=USER#4242424242424242",                  // a key with a numeric id after '#'
		"12345678901234 ms",                         // 14 digits starting with 1
	}
	for _, s := range keep {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q, want it unchanged", s, got)
		}
		if k := Find(s); k != nil {
			t.Errorf("Find(%q) = %v, want nothing", s, k)
		}
	}
}

func TestLuhnOnly(t *testing.T) {
	// The same digits with the last changed: one passes, nine fail.
	valid := 0
	for d := '0'; d <= '9'; d++ {
		if Find("401288888888188"+string(d)) != nil {
			valid++
		}
	}
	if valid != 1 {
		t.Fatalf("%d of the ten check digits accepted, want exactly one", valid)
	}
}

// The logger scrubs the message, string attributes, errors, values marshalled as JSON, attributes
// added with With, and members of nested groups — and keeps the JSON valid.
func TestLoggerScrubsEverywhere(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "fn").With("requester", "eve@example.com")
	err := fmt.Errorf("send e-mail: %w", errors.New("550 5.1.1 <bob@example.com>: Recipient address rejected"))
	l.WithGroup("outer").Info("reply to frank@example.com not sent",
		"err", err,
		"errText", err.Error(),
		slog.Group("inner", slog.String("token", "Bearer abcdefghijklmnopqrstuvwxyz"), slog.Any("card", []string{"4242 4242 4242 4242"})),
		slog.Any("meta", map[string]any{"to": "grace@example.com", "n": 3}),
		slog.String("key", "sk_live_abcdefghijkl"),
		slog.Int("amount", 4999),
		slog.String("userId", "01HZY3K6Q2W4M8T0V5X7C9B1N3"),
	)
	line := buf.String()
	for _, leak := range []string{"@example.com", "abcdefghijklmnopqrstuvwxyz", "4242", "sk_live_"} {
		if strings.Contains(line, leak) {
			t.Errorf("the line holds %q:\n%s", leak, line)
		}
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	outer := got["outer"].(map[string]any)
	inner := outer["inner"].(map[string]any)
	meta := outer["meta"].(map[string]any)
	checks := map[string]any{
		"msg":             got["msg"],
		"requester":       got["requester"],
		"outer.err":       outer["err"],
		"outer.errText":   outer["errText"],
		"inner.token":     inner["token"],
		"inner.card":      inner["card"].([]any)[0],
		"meta.to":         meta["to"],
		"outer.key":       outer["key"],
		"function (kept)": got["function"],
		"userId (kept)":   outer["userId"],
		"amount (kept)":   outer["amount"],
	}
	want := map[string]any{
		"msg":             "reply to [redacted email] not sent",
		"requester":       "[redacted email]",
		"outer.err":       "send e-mail: 550 5.1.1 <[redacted email]>: Recipient address rejected",
		"outer.errText":   "send e-mail: 550 5.1.1 <[redacted email]>: Recipient address rejected",
		"inner.token":     "Bearer [redacted bearer-token]",
		"inner.card":      "[redacted card-number]",
		"meta.to":         "[redacted email]",
		"outer.key":       "[redacted stripe-secret]",
		"function (kept)": "fn",
		"userId (kept)":   "01HZY3K6Q2W4M8T0V5X7C9B1N3",
		"amount (kept)":   float64(4999),
	}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %v, want %v", k, checks[k], w)
		}
	}
	if meta["n"] != float64(3) {
		t.Errorf("meta.n = %v, want 3", meta["n"])
	}
}

// A value whose JSON holds a card number as a number becomes a string (still valid JSON).
func TestLoggerScrubsNumbersInsideJSONValues(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "fn").Info("x", slog.Any("v", map[string]int64{"pan": 4242424242424242}))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if got["v"] != `{"pan":[redacted card-number]}` {
		t.Fatalf("v = %v", got["v"])
	}
}

// From without a logger in the context scrubs through the default logger's handler.
func TestFromDefaultIsScrubbed(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	From(context.Background()).With("to", "heidi@example.com").WithGroup("g").Warn("mail to ivan@example.com", "err", errors.New("judy@example.com"), slog.Group("h", "k", "sk_test_abcdefgh"))
	if s := buf.String(); strings.Contains(s, "@example.com") || strings.Contains(s, "sk_test_") || !strings.Contains(s, "[redacted email]") {
		t.Fatalf("default logger line: %s", s)
	}
	if h := Scrub(Scrub(slog.Default().Handler())); h != Scrub(slog.Default().Handler()) {
		t.Fatal("Scrub wraps a scrubbed handler twice")
	}
}

// A clean string comes back as is and costs no allocation.
func TestRedactCleanStringDoesNotAllocate(t *testing.T) {
	s := "request refused: the course is not published (courseId 01HZY3K6Q2W4M8T0V5X7C9B1N3, 2026-11-28T10:15:30Z)"
	if n := testing.AllocsPerRun(100, func() { _ = Redact(s) }); n != 0 {
		t.Fatalf("%v allocations per clean string, want 0", n)
	}
}
