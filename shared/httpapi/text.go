package httpapi

import (
	"strings"
	"unicode"

	"github.com/liberation/monetization/shared/apperr"
)

// OneLine trims s and checks it is 1..max characters on one line: no control characters (Unicode
// Cc: tabs and line breaks included) and no line or paragraph separators — the rule
// docs/openapi.yaml states as the OneLine pattern. Errors are 400s naming field.
func OneLine(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", apperr.New(apperr.Invalid, "%s is required", field)
	}
	if len([]rune(s)) > max {
		return "", apperr.New(apperr.Invalid, "%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", apperr.New(apperr.Invalid, "%s must be one line of text without control characters", field)
		}
	}
	return s, nil
}
