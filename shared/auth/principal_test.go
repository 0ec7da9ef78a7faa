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
		{"CommaSeparated", "admin,instructor", []string{"admin", "instructor"}},
		{"Empty", "", nil},
		{"EmptyBrackets", "[]", nil},
		// A group literally named "[admin" must not become "admin".
		{"NotAPrefixTrick", "[administrator]", []string{"administrator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseGroups(tt.raw); !slices.Equal(got, tt.want) {
				t.Fatalf("ParseGroups(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestFromClaims(t *testing.T) {
	p, ok := FromClaims(map[string]string{"sub": "u1", "email": "a@b.c", "cognito:groups": "[admin instructor]"})
	if !ok || p.UserID != "u1" || !p.IsAdmin() || !p.InGroup(GroupInstructor) {
		t.Fatalf("got %+v ok=%v", p, ok)
	}
	if _, ok := FromClaims(map[string]string{"email": "a@b.c"}); ok {
		t.Fatal("claims without sub must not authenticate")
	}
	if _, ok := FromClaims(nil); ok {
		t.Fatal("nil claims must not authenticate")
	}
	p, _ = FromClaims(map[string]string{"sub": "u2", "cognito:groups": "[administrator]"})
	if p.IsAdmin() {
		t.Fatal("administrator is not admin")
	}
}
