package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

func TestCreateRequestValidation(t *testing.T) {
	ok := func() createRequest {
		return createRequest{OrgName: " Acme ", Seats: 10, StartsAt: t0, ExpiresAt: t0.Add(time.Hour), OveragePolicy: "block",
			ExpirationPolicy: "revoke", AdminEmails: []string{"IT@Acme.example", "it@acme.example"}, TimeZone: "Europe/Berlin"}
	}
	r := ok()
	if err := r.Validate(); err != nil || r.OrgName != "Acme" || len(r.AdminEmails) != 1 || r.AdminEmails[0] != "it@acme.example" {
		t.Fatalf("%v %+v", err, r)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*createRequest)
		code   apperr.Code // default Invalid (400)
	}{
		{"orgName", func(r *createRequest) { r.OrgName = "  " }, ""},
		{"orgName", func(r *createRequest) { r.OrgName = "Acme\nBcc: x" }, ""},
		{"orgName", func(r *createRequest) { r.OrgName = strings.Repeat("a", 121) }, ""},
		{"seats", func(r *createRequest) { r.Seats = 0 }, ""},
		{"seats", func(r *createRequest) { r.Seats = MaxSeats + 1 }, ""},
		{"startsAt", func(r *createRequest) { r.StartsAt = time.Time{} }, ""},
		{"expiresAt", func(r *createRequest) { r.ExpiresAt = time.Time{} }, ""},
		// Well-formed, refused by a rule the request's schema cannot state: 422.
		{"expiresAt", func(r *createRequest) { r.ExpiresAt = r.StartsAt }, apperr.Unprocessable},
		{"overagePolicy", func(r *createRequest) { r.OveragePolicy = "true-up" }, ""},
		{"expirationPolicy", func(r *createRequest) { r.ExpirationPolicy = "" }, ""},
		{"adminEmails", func(r *createRequest) { r.AdminEmails = nil }, ""},
		{"adminEmails", func(r *createRequest) { r.AdminEmails = []string{"Eve <eve@x.example>"} }, ""},
		{"adminEmails", func(r *createRequest) { r.AdminEmails = []string{"eve@localhost"} }, ""},
		{"adminEmails", func(r *createRequest) { r.AdminEmails = make([]string, MaxAdminEmails+1) }, ""},
		{"timeZone", func(r *createRequest) { r.TimeZone = "Mars/Base" }, apperr.Unprocessable},
		{"timeZone", func(r *createRequest) { r.TimeZone = "Local" }, apperr.Unprocessable}, // the server's zone, not a name
		{"timeZone", func(r *createRequest) { r.TimeZone = "../../etc/passwd" }, ""},
		{"timeZone", func(r *createRequest) { r.TimeZone = "Europe/ Berlin" }, ""},
		{"timeZone", func(r *createRequest) { r.TimeZone = "Europe/Berlín" }, ""},
		{"timeZone", func(r *createRequest) { r.TimeZone = "Europe//Berlin" }, ""},
	} {
		r := ok()
		tc.mutate(&r)
		err := r.Validate()
		want := tc.code
		if want == "" {
			want = apperr.Invalid
		}
		if !apperr.Is(err, want) || !strings.HasPrefix(apperr.PublicMessage(err), tc.field+" ") {
			t.Errorf("%s: %v, want %s", tc.field, err, want)
		}
	}
}

func TestPatchRequest(t *testing.T) {
	var empty patchRequest
	if err := empty.Validate(); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("empty patch: %v", err)
	}
	l := activeLicense(10, 6, OverageBlock, ExpireRestrict)
	five, twenty := int64(5), int64(20)
	susp := true
	if _, err := (&patchRequest{Seats: &five}).apply(l); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("below seats used: %v", err)
	}
	early := l.StartsAt.Add(-time.Hour)
	if _, err := (&patchRequest{ExpiresAt: &early}).apply(l); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("expiry before start: %v", err)
	}
	allow := OverageAllow
	next, err := (&patchRequest{Seats: &twenty, Suspended: &susp, OveragePolicy: &allow}).apply(l)
	if err != nil || next.Seats != 20 || !next.Suspended || next.OveragePolicy != OverageAllow || next.SeatsUsed != 6 {
		t.Fatalf("%+v %v", next, err)
	}
}

func TestBrandingValidation(t *testing.T) {
	ok := func() brandingRequest {
		return brandingRequest{DisplayName: "Acme Academy", LogoURL: "https://cdn.acme.example/logo.png", PrimaryColor: "#0b3d91",
			AccentColor: "#FC3D21", EmailFromName: "Acme Academy", SupportEmail: "Help@Acme.example", CustomDomain: "Learn.Acme.example."}
	}
	r := ok()
	if err := r.Validate(); err != nil || r.PrimaryColor != "#0B3D91" || r.SupportEmail != "help@acme.example" || r.CustomDomain != "learn.acme.example" {
		t.Fatalf("%v %+v", err, r)
	}
	noLogo := ok()
	noLogo.LogoURL, noLogo.CustomDomain = "", ""
	if err := noLogo.Validate(); err != nil {
		t.Fatalf("optional fields: %v", err)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*brandingRequest)
	}{
		{"displayName", func(r *brandingRequest) { r.DisplayName = "" }},
		{"displayName", func(r *brandingRequest) { r.DisplayName = "A\u0000B" }},
		{"logoUrl", func(r *brandingRequest) { r.LogoURL = "http://cdn.acme.example/logo.png" }},
		{"logoUrl", func(r *brandingRequest) { r.LogoURL = "javascript:alert(1)" }},
		{"logoUrl", func(r *brandingRequest) { r.LogoURL = `https://a.example/x.png" onerror="alert(1)` }},
		{"logoUrl", func(r *brandingRequest) { r.LogoURL = "https://user:pass@a.example/x.png" }},
		{"logoUrl", func(r *brandingRequest) { r.LogoURL = "//a.example/x.png" }},
		{"primaryColor", func(r *brandingRequest) { r.PrimaryColor = "red" }},
		{"primaryColor", func(r *brandingRequest) { r.PrimaryColor = "#12345G" }},
		{"accentColor", func(r *brandingRequest) { r.AccentColor = "#123;background:url(x)" }},
		{"emailFromName", func(r *brandingRequest) { r.EmailFromName = "Acme <evil@x.example>" }},
		{"emailFromName", func(r *brandingRequest) { r.EmailFromName = "Acme\r\nBcc: x@y.example" }},
		{"supportEmail", func(r *brandingRequest) { r.SupportEmail = "not-an-address" }},
		{"customDomain", func(r *brandingRequest) { r.CustomDomain = "169.254.169.254" }},
		{"customDomain", func(r *brandingRequest) { r.CustomDomain = "localhost" }},
		{"customDomain", func(r *brandingRequest) { r.CustomDomain = "-bad-.example.com" }},
		{"customDomain", func(r *brandingRequest) { r.CustomDomain = "https://learn.acme.example" }},
	} {
		r := ok()
		tc.mutate(&r)
		err := r.Validate()
		if !apperr.Is(err, apperr.Invalid) || !strings.HasPrefix(apperr.PublicMessage(err), tc.field+" ") {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}

func TestInviteAndJoinRequests(t *testing.T) {
	r := inviteRequest{}
	if err := r.Validate(); err != nil || r.MaxUses != 1 || r.ExpiresInDays != DefaultInviteDays {
		t.Fatalf("defaults: %+v %v", r, err)
	}
	for _, bad := range []inviteRequest{{Email: "x"}, {MaxUses: MaxInviteUses + 1},
		{MaxUses: -1}, {ExpiresInDays: MaxInviteDays + 1}} {
		if err := bad.Validate(); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// Each field well-formed, the combination refused: 422.
	if err := (&inviteRequest{Email: "a@b.example", MaxUses: 5}).Validate(); !apperr.Is(err, apperr.Unprocessable) {
		t.Errorf("an invite to one address for 5 uses: %v", err)
	}
	j := joinRequest{Code: " lib-7k3m-q9tv-2xwd-8nbr "}
	if err := j.Validate(); err != nil || j.Code != "LIB-7K3M-Q9TV-2XWD-8NBR" {
		t.Fatalf("%+v %v", j, err)
	}
	if err := (&joinRequest{Code: "LIB-7K3M"}).Validate(); !apperr.Is(err, apperr.Invalid) {
		t.Fatal("short code accepted")
	}
}
