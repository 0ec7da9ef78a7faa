package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/liberation/monetization/shared/apperr"
)

// Request bodies are decoded with github.com/go-json-experiment/json (the JSON v2 design that Go
// 1.26 ships only behind GOEXPERIMENT=jsonv2; docs/decisions/0021). Unlike encoding/json it matches
// member names exactly (case-sensitive) and refuses duplicate names, so `"AMOUNTCENTS":3` is an
// unknown field and `"amountCents":1,"amountCents":7` is a 400 instead of a silent 7.
//
// decodeOptions add: unknown members are an error, and integers accept any whole-valued JSON
// number (100, 100.0, 1e2), the meaning of `type: integer` in JSON Schema; a fraction (9.99) or a
// value out of the field's range is a 400, never rounded.
var decodeOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.WithUnmarshalers(json.UnmarshalFromFunc(unmarshalWholeNumber)),
)

// Messages of the request frame that tests and clients may rely on.
const (
	msgBodyRequired = "request body is required"
	msgNotObject    = "request body must be a JSON object"
	msgSingleObject = "request body must be a single JSON object"
)

// Decode parses the JSON body into dst and then runs dst.Validate() if it has one. The body must be
// one JSON object (not an array, string, number, boolean or null) of at most MaxBodyBytes, whose
// member names are exactly dst's JSON names, each at most once. Every refusal is a 400 whose
// message names the JSON field at fault, never a Go type.
func (r *Request) Decode(dst any) error {
	b, err := r.Body()
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return apperr.New(apperr.Invalid, msgBodyRequired)
	}
	return decodeObject(b, dst)
}

func decodeObject(b []byte, dst any) error {
	if i := bytes.IndexFunc(b, notJSONSpace); i < 0 || b[i] != '{' {
		return apperr.New(apperr.Invalid, msgNotObject)
	}
	if err := json.Unmarshal(b, dst, decodeOptions); err != nil {
		if trailingData(b) {
			return apperr.New(apperr.Invalid, msgSingleObject)
		}
		return apperr.New(apperr.Invalid, "request body is invalid: %s", describeJSONError(err))
	}
	if v, ok := dst.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

func notJSONSpace(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }

// trailingData reports whether b holds one complete JSON value followed by more than white space
// (only asked after Unmarshal refused b, to tell that case apart).
func trailingData(b []byte) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	if _, err := dec.ReadValue(); err != nil {
		return false
	}
	_, err := dec.ReadToken()
	return !errors.Is(err, io.EOF)
}

// errNotWhole and errOutOfRange are what unmarshalWholeNumber reports for a number that is not an
// integer, or an integer the field cannot hold.
var (
	errNotWhole   = errors.New("not a whole number")
	errOutOfRange = errors.New("out of range")
)

// unmarshalWholeNumber decodes a JSON number into any Go integer kind when its value is whole,
// whatever its notation. Anything else (other kinds, other JSON values) is left to the default.
func unmarshalWholeNumber(dec *jsontext.Decoder, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !isInteger(rv.Elem().Kind()) || dec.PeekKind() != '0' {
		return errors.ErrUnsupported // not an integer field, or not a number: the default decides
	}
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	neg, digits, ok := wholeDigits(string(raw))
	if !ok {
		return errNotWhole
	}
	e := rv.Elem()
	switch e.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if neg && digits != "0" {
			return errOutOfRange
		}
		n, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || e.OverflowUint(n) {
			return errOutOfRange
		}
		e.SetUint(n)
	default:
		if neg {
			digits = "-" + digits
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || e.OverflowInt(n) {
			return errOutOfRange
		}
		e.SetInt(n)
	}
	return nil
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// wholeDigits reads a JSON number (already validated by the tokenizer) and returns its sign and
// its decimal digits when its value is a whole number: "100.0" and "1e2" give "100", "-0.0"
// gives "0", "9.5" is not whole. The work is bounded: a whole value of more than 20 digits is
// reported as tooBig (out of every integer range) without being expanded.
func wholeDigits(s string) (neg bool, digits string, ok bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant, expStr, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	sig := strings.TrimLeft(intPart+frac, "0") // significant digits
	if sig == "" {
		return false, "0", true // zero in any notation, including -0.0 and 0e99999999999
	}
	exp := int64(0)
	if hasExp {
		e, err := strconv.ParseInt(expStr, 10, 64)
		switch {
		case err == nil && e > -maxExp && e < maxExp:
			exp = e
		case strings.HasPrefix(expStr, "-"):
			return neg, "", false // a non-zero value far below 1
		default:
			return neg, tooBig, true
		}
	}
	trimmed := strings.TrimRight(sig, "0")
	exp += int64(len(sig)-len(trimmed)) - int64(len(frac))
	if exp < 0 {
		return neg, "", false // a non-zero digit after the decimal point
	}
	if int64(len(trimmed))+exp > int64(len(tooBig)) {
		return neg, tooBig, true
	}
	return neg, trimmed + strings.Repeat("0", int(exp)), true
}

// tooBig is more than any Go integer holds; maxExp bounds the exponents worth reading.
const (
	tooBig = "99999999999999999999"
	maxExp = 1 << 30
)

// describeJSONError turns a decoding error into a message that names the JSON field at fault and
// never a Go type, package or offset into our code.
func describeJSONError(err error) string {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return "duplicate field " + strconv.Quote(fieldPath(syn.JSONPointer))
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			return "unexpected end of JSON"
		}
		return "malformed JSON at offset " + strconv.FormatInt(syn.ByteOffset, 10)
	case errors.As(err, &sem):
		field := strconv.Quote(fieldPath(sem.JSONPointer))
		switch {
		case errors.Is(sem.Err, json.ErrUnknownName):
			return "unknown field " + field
		case errors.Is(sem.Err, errNotWhole):
			return "field " + field + " must be an integer"
		case errors.Is(sem.Err, errOutOfRange):
			return "field " + field + " is out of range"
		case sem.JSONPointer == "":
			return "the body must be a JSON object"
		}
		if want := jsonKindOf(sem.GoType); want != "" {
			return "field " + field + " must be " + want
		}
		return "field " + field + " has the wrong type"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of JSON"
	}
	return "not a JSON object of the expected shape"
}

// fieldPath renders a JSON pointer ("/items/0/name") as a field path ("items.0.name").
func fieldPath(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// jsonKindOf names what a Go type expects in JSON words.
func jsonKindOf(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return ""
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 date-time (e.g. 2026-01-31T09:00:00Z)"
	}
	switch k := t.Kind(); {
	case isInteger(k):
		return "an integer"
	case k == reflect.Float32 || k == reflect.Float64:
		return "a number"
	case k == reflect.String:
		return "a string"
	case k == reflect.Bool:
		return "a boolean"
	case k == reflect.Slice || k == reflect.Array:
		return "an array"
	case k == reflect.Struct || k == reflect.Map:
		return "an object"
	}
	return ""
}

// checkContentType: a request that carries a body must label it application/json (parameters
// such as charset=utf-8 allowed; JSON is UTF-8, so another charset is refused too). Without a
// body the header does not matter.
func checkContentType(r *Request) error {
	if r.Event.Body == "" {
		return nil
	}
	ct := r.Header("content-type")
	if strings.TrimSpace(ct) == "" {
		return apperr.New(apperr.UnsupportedMediaType, "a request body needs the header content-type: application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return apperr.New(apperr.UnsupportedMediaType, "content-type must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return apperr.New(apperr.UnsupportedMediaType, "JSON bodies must be UTF-8 (charset=utf-8)")
	}
	return nil
}
