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
	UserID string   // the token's "sub"
	Email  string   // the token's "email", if any
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
//
// aws-lambda-go types claims as map[string]string, so an array claim such as cognito:groups arrives
// flattened: API Gateway renders it as "[admin instructor]". A JSON array ("[\"admin\"]") and a
// comma-separated list are accepted too, so a change of rendering cannot silently drop groups.
func FromClaims(claims map[string]string) (Principal, bool) {
	sub := strings.TrimSpace(claims["sub"])
	if sub == "" {
		return Principal{}, false
	}
	return Principal{UserID: sub, Email: claims["email"], Groups: ParseGroups(claims["cognito:groups"])}, true
}

// ParseGroups parses the flattened cognito:groups claim.
func ParseGroups(raw string) []string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	if strings.HasPrefix(raw, "[\"") {
		var arr []string
		if json.Unmarshal([]byte(raw), &arr) == nil {
			return arr
		}
	}
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")
	fields := strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == ',' })
	if len(fields) == 0 {
		return nil
	}
	return fields
}
