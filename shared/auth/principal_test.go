package auth

import (
	"slices"
	"testing"
)

func TestParseGroups(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{"APIGatewayRendering", "[admin instructor]", []string{"admin", "instructor"}},
		{"Single", "[admin]", []string{"admin"}},
		{"JSONArray", `["admin","instructor"]`, []string{"admin", "instructor"}},
		{"PlainString", "admin", []string{"admin"}},
		{"Empty", "", nil},
		{"EmptyBrackets", "[]", nil},
		{"EmptyJSONArray", `[""]`, nil},
		{"DoubledSpace", "[admin  instructor]", []string{"admin", "instructor"}},
		// Commas never separate: each of these is one (odd) group name.
		{"CommaSeparated", "admin,instructor", []string{"admin,instructor"}},
		{"CommaInRendering", "[x,admin]", []string{"x,admin"}},
		{"CommaInJSONElement", `["x,admin"]`, []string{"x,admin"}},
		// A JSON element is taken as is: spaces inside or around it are part of the name.
		{"SpaceInJSONElement", `["x admin"]`, []string{"x admin"}},
		{"TrailingSpaceInJSONElement", `["admin "]`, []string{"admin "}},
		// Not a list: one name, exactly as sent.
		{"Unbalanced", "[admin", []string{"[admin"}},
		{"PaddedPlainString", " admin", []string{" admin"}},
		{"NotAPrefixTrick", "[administrator]", []string{"administrator"}},
		{"BracketedName", "[[admin]]", []string{"[admin]"}},
		{"JSONWithNonStrings", `["admin",1]`, []string{`"admin",1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseGroups(tt.raw); !slices.Equal(got, tt.want) {
				t.Fatalf("ParseGroups(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

// TestWhichClaimsGrantAdmin lists the forms the issue names and whether each makes the caller an
// administrator. The reasons are in docs/decisions/0023-group-claims.md.
func TestWhichClaimsGrantAdmin(t *testing.T) {
	tests := []struct {
		claim string
		admin bool
		why   string
	}{
		{`admin`, true, "a plain string is one group name, and it is admin"},
		{`[admin]`, true, "API Gateway's rendering of the list [admin]"},
		{`[admin instructor]`, true, "API Gateway's rendering of [admin, instructor]"},
		{`admin,instructor`, false, "one group literally named admin,instructor: commas never split"},
		{`["x,admin"]`, false, "a JSON list with the single group x,admin"},
		{`["x admin"]`, false, "a JSON list with the single group 'x admin'"},
		{`["admin "]`, false, "names are exact: 'admin ' is not admin"},
		{`Admin`, false, "names are case-sensitive, as in Cognito"},
		{`[Admin]`, false, "names are case-sensitive, as in Cognito"},
		{`[x,admin]`, false, "API Gateway's rendering of the single group x,admin"},
		{`[administrator]`, false, "administrator is another group"},
		{``, false, "no groups"},
	}
	for _, tt := range tests {
		p, ok := FromClaims(map[string]string{"sub": "u1", "cognito:groups": tt.claim})
		if !ok {
			t.Fatalf("%q: no principal", tt.claim)
		}
		if p.IsAdmin() != tt.admin {
			t.Errorf("cognito:groups %q: admin = %v, want %v (%s); groups %q", tt.claim, p.IsAdmin(), tt.admin, tt.why, p.Groups)
		}
	}
}

func TestFromClaims(t *testing.T) {
	p, ok := FromClaims(map[string]string{"sub": "u1", "email": "a@b.c", "email_verified": "true", "cognito:groups": "[admin instructor]"})
	if !ok || p.UserID != "u1" || p.Email != "a@b.c" || !p.IsAdmin() || !p.InGroup(GroupInstructor) {
		t.Fatalf("got %+v ok=%v", p, ok)
	}
	if _, ok := FromClaims(map[string]string{"email": "a@b.c"}); ok {
		t.Fatal("claims without sub must not authenticate")
	}
	if _, ok := FromClaims(map[string]string{"sub": "  "}); ok {
		t.Fatal("a blank sub must not authenticate")
	}
	if _, ok := FromClaims(nil); ok {
		t.Fatal("nil claims must not authenticate")
	}
}

// An e-mail claim counts only when email_verified says so: a user pool lets a user set any address
// before verifying it, and seats, activation and invites decide by address (issue 14, item 1).
func TestEmailOnlyWhenVerified(t *testing.T) {
	for _, tc := range []struct {
		verified string
		set      bool
		want     string
	}{
		{"true", true, "ana@example.com"},
		{"True", true, "ana@example.com"},
		{"false", true, ""},
		{"", false, ""},
		{"1", true, ""},
		{"yes", true, ""},
	} {
		claims := map[string]string{"sub": "u1", "email": "ana@example.com"}
		if tc.set {
			claims["email_verified"] = tc.verified
		}
		p, ok := FromClaims(claims)
		if !ok || p.Email != tc.want {
			t.Errorf("email_verified=%q (set %v): Email %q, want %q", tc.verified, tc.set, p.Email, tc.want)
		}
	}
}
