package notify

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/mail"
)

func TestRenderEscapesEverything(t *testing.T) {
	evil := `<script>alert("x")</script>&`
	b := Brand{Name: "Acme " + evil, PrimaryColor: "#112233", AccentColor: "#445566", LogoURL: "https://cdn.acme.example/logo.png?a=1&b=2",
		FromName: "Acme", SupportEmail: "help@acme.example"}
	text, h := Render(b, Content{Subject: "S " + evil, Heading: "H " + evil, Paragraphs: []string{"P " + evil},
		Facts: [][2]string{{"K " + evil, "V " + evil}}, Action: &Link{Label: "Go " + evil, URL: "https://app.example.com/x?a=1&b=2"},
		Footer: "F " + evil})
	if strings.Contains(h, "<script>") || strings.Contains(h, `"x"`) {
		t.Fatalf("unescaped value in HTML: %s", h)
	}
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;`, `border-top:4px solid #112233`, `background:#445566`,
		`<img src="https://cdn.acme.example/logo.png?a=1&amp;b=2"`, `href="https://app.example.com/x?a=1&amp;b=2"`,
		`href="mailto:help@acme.example"`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
	// The text part is plain text: values as they are, no markup added.
	for _, want := range []string{"H " + evil, "P " + evil, "K " + evil + ": V " + evil, "Go " + evil + ": https://app.example.com/x?a=1&b=2"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<p") || strings.Contains(text, "<table") {
		t.Errorf("markup in the text part:\n%s", text)
	}
}

func TestUnsafeBrandValuesFallBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Brand
		want func(Brand) bool
	}{
		{"Color", Brand{Name: "A", PrimaryColor: "red;background:url(x)", AccentColor: "#12345"}, func(b Brand) bool {
			return b.PrimaryColor == Platform.PrimaryColor && b.AccentColor == Platform.AccentColor
		}},
		{"HTTPLogo", Brand{Name: "A", LogoURL: "http://acme.example/logo.png"}, func(b Brand) bool { return b.LogoURL == "" }},
		{"JSLogo", Brand{Name: "A", LogoURL: "javascript:alert(1)"}, func(b Brand) bool { return b.LogoURL == "" }},
		{"QuoteLogo", Brand{Name: "A", LogoURL: `https://a.example/" onerror="x`}, func(b Brand) bool { return b.LogoURL == "" }},
		{"UserinfoLogo", Brand{Name: "A", LogoURL: "https://user:pw@a.example/l.png"}, func(b Brand) bool { return b.LogoURL == "" }},
		{"EmptyName", Brand{Name: " "}, func(b Brand) bool { return b.Name == "Liberation" && b.FromName == "Liberation" }},
		{"FromNameDefaultsToName", Brand{Name: "Acme"}, func(b Brand) bool { return b.FromName == "Acme" }},
		{"BadSupport", Brand{Name: "A", SupportEmail: "x@y.example\r\nBcc: z@z"}, func(b Brand) bool { return b.SupportEmail == Platform.SupportEmail }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.Safe(); !tc.want(got) {
				t.Fatalf("%+v", got)
			}
		})
	}
}

func TestFrom(t *testing.T) {
	for _, tc := range []struct {
		name, fromName, mailFrom, want string
	}{
		{"Plain", "Acme Training", "receipts@liberation.local", `"Acme Training" <receipts@liberation.local>`},
		{"ConfiguredName", "Acme", "Liberation <receipts@liberation.example>", `"Acme" <receipts@liberation.example>`},
		{"Quotes", `Acme "Best" Co`, "r@l.example", `"Acme \"Best\" Co" <r@l.example>`},
		{"NonASCII", "Ünïcode Académie", "r@l.example", "=?utf-8?q?=C3=9Cn=C3=AFcode_Acad=C3=A9mie?= <r@l.example>"},
		{"HeaderInjection", "Acme\r\nBcc: victim@example.com", "r@l.example", `"Acme" <r@l.example>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Brand{Name: "Acme", FromName: tc.fromName}
			if got := From(b, tc.mailFrom); got != tc.want {
				t.Fatalf("From = %s, want %s", got, tc.want)
			}
		})
	}
}

type fakeSender struct {
	mu      sync.Mutex
	sent    []mail.Message
	fail    error
	entered chan struct{} // closed when Send is first entered
	wait    chan struct{} // Send blocks until it is closed
}

func (f *fakeSender) Send(_ context.Context, m mail.Message) error {
	if f.entered != nil {
		close(f.entered)
		f.entered = nil
	}
	if f.wait != nil {
		<-f.wait
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		err := f.fail
		f.fail = nil
		return err
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestSendOnce(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	idem := idemtest.New(clk)
	s := &fakeSender{}
	m := mail.Message{From: "a@b.example", To: "c@d.example", Subject: "s", Text: "t"}
	if o, err := SendOnce(ctx, idem, s, "", m); err == nil {
		t.Fatalf("no dedupe id: %v", o)
	}
	// A failed send releases the claim: the retry sends.
	s.fail = errors.New("smtp down")
	if _, err := SendOnce(ctx, idem, s, "x#1", m); err == nil {
		t.Fatal("failure not reported")
	}
	for i, want := range []Outcome{Sent, AlreadySent, AlreadySent} {
		if o, err := SendOnce(ctx, idem, s, "x#1", m); err != nil || o != want {
			t.Fatalf("call %d: %v %v, want %v", i, o, err, want)
		}
	}
	if len(s.sent) != 1 || s.sent[0].Headers[DedupeHeader] != "x#1" {
		t.Fatalf("sent %+v", s.sent)
	}
	// An overlapping run: while one call holds the claim, another is told it is in progress.
	entered := make(chan struct{})
	slow := &fakeSender{entered: entered, wait: make(chan struct{})}
	done := make(chan Outcome)
	go func() { o, _ := SendOnce(ctx, idem, slow, "x#2", m); done <- o }()
	<-entered // the first call holds the claim and is sending
	other := &fakeSender{}
	if o, err := SendOnce(ctx, idem, other, "x#2", m); err != nil || o != InProgress || len(other.sent) != 0 {
		t.Fatalf("overlapping call: %v %v, sent %d", o, err, len(other.sent))
	}
	close(slow.wait)
	if o := <-done; o != Sent || len(slow.sent) != 1 {
		t.Fatalf("holder: %v, sent %d", o, len(slow.sent))
	}
}

// HTTPSURL: what a logo URL may be. Each refused value is one the handler must not store (and the
// spec's pattern refuses too: both are LogoURLPattern).
func TestHTTPSURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://cdn.acme.example/logo.png":                     true,
		"https://cdn.acme.example:8443/a/b.svg?v=2#x":           true,
		"https://cdn.acme.example/%E2%9C%93.png":                true,
		"https://cdn.acme.example":                              true,
		"":                                                      false,
		"http://cdn.acme.example/logo.png":                      false,
		"https://":                                              false,
		"https://user:pw@cdn.acme.example/l.png":                false,
		"https://cdn.acme.example/a b.png":                      false,
		`https://cdn.acme.example/"onerror=x`:                   false,
		"https://cdn.acme.example/'x'":                          false,
		"https://cdn.acme.example/%zz":                          false,
		"https://cdn.acme.example/\x00":                         false,
		"https://cdn.acme.example:port/":                        false,
		"javascript:alert(1)//https://x":                        false,
		"https://cdn.acme.example/" + strings.Repeat("a", 2030): false,
	} {
		if got := HTTPSURL(raw); got != want {
			t.Errorf("HTTPSURL(%q) = %v, want %v", raw, got, want)
		}
	}
}
