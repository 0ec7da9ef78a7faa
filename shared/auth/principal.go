// Package auth reads the caller's identity from the claims that the API Gateway JWT authorizer puts
// in requestContext.authorizer.jwt.claims.
package auth

import (
	"encoding/json"
	"strings"
)

// Group names (Cognito user pool groups).
const (
	GroupAdmin      = "admin"
	GroupInstructor = "instructor"
)

// Principal is an authenticated caller.
type Principal struct {
	UserID string // the token's "sub"
	// Email is the token's "email" only when its "email_verified" is true. An unverified address is
	// anyone's to type (a user pool lets a user change it before verifying it), so it decides
	// nothing: seats, license activation, invites and the e-mail directory see "" instead.
	Email  string
	Groups []string // cognito:groups
}

// IsAdmin reports membership of the admin group.
func (p Principal) IsAdmin() bool { return p.InGroup(GroupAdmin) }

// InGroup reports membership of a group.
func (p Principal) InGroup(g string) bool {
	for _, x := range p.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// FromClaims builds a Principal from authorizer claims. ok is false when there is no subject.
func FromClaims(claims map[string]string) (Principal, bool) {
	sub := strings.TrimSpace(claims["sub"])
	if sub == "" {
		return Principal{}, false
	}
	p := Principal{UserID: sub, Groups: ParseGroups(claims["cognito:groups"])}
	if EmailVerified(claims) {
		p.Email = strings.TrimSpace(claims["email"])
	}
	return p, true
}

// EmailVerified reads Cognito's email_verified claim, which the authorizer flattens to "true" or
// "false" (a JSON boolean), or which arrives as the string "true" from a federated provider's
// mapping. Anything else — absent, empty, "1", "yes" — is unverified.
func EmailVerified(claims map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(claims["email_verified"]), "true")
}

// ParseGroups reads the cognito:groups claim as the API Gateway JWT authorizer delivers it.
// aws-lambda-go types claims as map[string]string, so a list claim arrives flattened, and API
// Gateway flattens ["admin","instructor"] to "[admin instructor]". Exactly three forms are read
// (docs/decisions/0023):
//
//   - "[a b]": API Gateway's rendering of a list: the names between the brackets, separated by
//     spaces (Cognito group names cannot contain white space, so a space always separates two).
//   - `["a","b"]`: a real JSON list of strings, where one arrives; each element is one name, as is.
//   - anything else is one group name, as is: a plain string claim "admin" is the group "admin".
//
// Nothing is split on commas ("admin,instructor" and "x,admin" are single, odd group names), and
// names are compared exactly: "Admin" and "admin " are not "admin".
func ParseGroups(raw string) []string {
	if raw == "" || raw == "[]" {
		return nil
	}
	if strings.HasPrefix(raw, "[\"") {
		var list []string
		if json.Unmarshal([]byte(raw), &list) == nil {
			return nonEmpty(list)
		}
	}
	if len(raw) >= 2 && raw[0] == '[' && raw[len(raw)-1] == ']' {
		return nonEmpty(strings.Split(raw[1:len(raw)-1], " "))
	}
	return []string{raw}
}

// nonEmpty drops empty names (a doubled separator, an empty JSON element): no group is named "".
func nonEmpty(names []string) []string {
	out := names[:0]
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
