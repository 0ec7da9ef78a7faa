package rewards

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/liberation/monetization/shared/apperr"
)

// CheckText validates free text a caller sends (a reason, a note, a name, an address line): min to
// max characters (code points, as JSON Schema counts them), no control characters, and — when min
// is above zero — not only spaces. docs/openapi.yaml states the same rule as a pattern, so every
// string the document accepts is accepted here, and the other way round.
func CheckText(field, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		return apperr.New(apperr.Invalid, "%s must be %d to %d characters", field, min, max)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return apperr.New(apperr.Invalid, "%s must not contain control characters (line breaks, tabs)", field)
	}
	if min > 0 && strings.TrimSpace(v) == "" {
		return apperr.New(apperr.Invalid, "%s must not be blank", field)
	}
	return nil
}
