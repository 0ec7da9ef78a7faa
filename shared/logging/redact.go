package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// Kind is a kind of personal data or secret the scrubber removes from log lines.
type Kind string

// The kinds Redact replaces, each by its Marker.
const (
	Email        Kind = "email"         // an e-mail address (also URL-encoded, "%40")
	BearerToken  Kind = "bearer-token"  // the credential after "Bearer "
	JWT          Kind = "jwt"           // eyJ….eyJ….sig: a signed token, with or without "Bearer"
	StripeSecret Kind = "stripe-secret" // sk_live_/sk_test_/rk_live_/rk_test_ keys, whsec_ signing secrets
	CardNumber   Kind = "card-number"   // 13–19 digits (groups may be split by one space or dash) passing Luhn
)

// Marker is what replaces a finding of kind k: it names the kind and holds nothing of the value.
func Marker(k Kind) string { return "[redacted " + string(k) + "]" }

// patterns are compiled once, on first use (a function that never logs such a string never pays).
type patterns struct {
	email, bearer, jwt, stripe *regexp.Regexp
}

var compiled = sync.OnceValue(func() *patterns {
	return &patterns{
		// The local part and the domain of RFC 5321 addresses as they appear in practice; "%40" is
		// an "@" in a URL's query.
		email: regexp.MustCompile(`[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`),
		// "Bearer <credential>": the credential is at least 16 characters of the RFC 6750 token68
		// alphabet, so prose such as "a bearer token is required" stays.
		bearer: regexp.MustCompile(`(?i)\bbearer(\s+|%20)[A-Za-z0-9\-._~+/]{16,}=*`),
		// A JWS in compact form: a JSON header ("eyJ" is `{"` in base64url), a payload, a signature
		// (empty for alg "none").
		jwt: regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`),
		// Stripe secret and restricted keys and webhook signing secrets (publishable pk_ keys are
		// public by design).
		stripe: regexp.MustCompile(`\b(?:(?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9_]{6,}`),
	}
})

// Redact returns s with every e-mail address, bearer token, JWT, Stripe secret and card number
// replaced by its Marker. A string holding none of them is returned as is, without allocating:
// each pattern runs only when a cheap byte test says it could match.
func Redact(s string) string {
	if len(s) < 6 {
		return s
	}
	if strings.Contains(s, "eyJ") {
		s = compiled().jwt.ReplaceAllLiteralString(s, Marker(JWT))
	}
	if mayHoldBearer(s) {
		s = compiled().bearer.ReplaceAllString(s, "Bearer${1}"+Marker(BearerToken))
	}
	if strings.Contains(s, "k_live_") || strings.Contains(s, "k_test_") || strings.Contains(s, "whsec_") {
		s = compiled().stripe.ReplaceAllLiteralString(s, Marker(StripeSecret))
	}
	if strings.IndexByte(s, '@') >= 0 || strings.Contains(s, "%40") {
		s = compiled().email.ReplaceAllLiteralString(s, Marker(Email))
	}
	return redactCards(s)
}

// Find reports the kinds of personal data or secrets in s (each kind once, in a fixed order), for
// scanners of log output. Nil means s is clean.
func Find(s string) []Kind {
	if len(s) < 6 {
		return nil
	}
	var out []Kind
	if strings.Contains(s, "eyJ") && compiled().jwt.MatchString(s) {
		out = append(out, JWT)
	}
	if mayHoldBearer(s) && compiled().bearer.MatchString(s) {
		out = append(out, BearerToken)
	}
	if (strings.Contains(s, "k_live_") || strings.Contains(s, "k_test_") || strings.Contains(s, "whsec_")) && compiled().stripe.MatchString(s) {
		out = append(out, StripeSecret)
	}
	if (strings.IndexByte(s, '@') >= 0 || strings.Contains(s, "%40")) && compiled().email.MatchString(s) {
		out = append(out, Email)
	}
	if _, ok := nextCard(s, 0); ok {
		out = append(out, CardNumber)
	}
	return out
}

// mayHoldBearer is a cheap test for "bearer" in the usual spellings (Bearer, bearer, BEARER)
// without allocating: strings.Index is vectorised, a byte loop is not.
func mayHoldBearer(s string) bool {
	for _, tail := range [...]string{"earer", "EARER"} {
		for off := 0; ; {
			i := strings.Index(s[off:], tail)
			if i < 0 {
				break
			}
			if j := off + i; j > 0 && s[j-1]|0x20 == 'b' {
				return true
			}
			off += i + 1
		}
	}
	return false
}

// Card numbers. A candidate is a run of digit groups joined by single spaces or dashes, standing
// alone (see joinedBefore: not part of an id, a decimal, a time or a path). A window of consecutive groups is a card when it has 13–19 digits,
// every group has at least 3 digits (so dates, times and lists of small numbers never join), its
// first digit is 2–6 (the card networks' ranges: Visa 4, Mastercard 2/5, Amex 3, Discover/UnionPay
// 6; Unix times in ms and ns start with 1) and it passes the Luhn check.

type span struct{ start, end int }

// redactCards replaces each card number in s by its marker.
func redactCards(s string) string {
	sp, ok := nextCard(s, 0)
	if !ok {
		return s
	}
	var b strings.Builder
	last := 0
	for ok {
		b.WriteString(s[last:sp.start])
		b.WriteString(Marker(CardNumber))
		last = sp.end
		sp, ok = nextCard(s, last)
	}
	b.WriteString(s[last:])
	return b.String()
}

// nextCard finds the first card number in s at or after from.
func nextCard(s string, from int) (span, bool) {
	for i := from; i < len(s); i++ {
		if !isDigit(s[i]) || joinedBefore(s, i) {
			continue
		}
		// Collect the chain of groups starting here.
		var groups [8]span
		n := 0
		j := i
		for n < len(groups) {
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			groups[n] = span{j, k}
			n++
			if k+1 < len(s) && (s[k] == ' ' || s[k] == '-') && isDigit(s[k+1]) {
				j = k + 1
				continue
			}
			j = k
			break
		}
		chainEnd := groups[n-1].end
		if joinedAfter(s, chainEnd) {
			// The chain runs into a word (an id such as 4242x): skip it whole.
			i = chainEnd
			continue
		}
		if sp, ok := cardIn(s, groups[:n]); ok {
			return sp, true
		}
		i = chainEnd
	}
	return span{}, false
}

// cardIn finds a window of consecutive groups that is a card number. Only whole groups count, so
// a run of 20 or more digits never matches.
func cardIn(s string, groups []span) (span, bool) {
	for a := range groups {
		digits := 0
		for b := a; b < len(groups); b++ {
			g := groups[b]
			if len(groups) > 1 && g.end-g.start < 3 {
				break
			}
			digits += g.end - g.start
			if digits > 19 {
				break
			}
			if digits >= 13 && luhnCard(s, groups[a:b+1]) {
				return span{groups[a].start, g.end}, true
			}
		}
	}
	return span{}, false
}

// luhnCard checks the network range of the first digit and the Luhn sum of the groups' digits.
func luhnCard(s string, groups []span) bool {
	if first := s[groups[0].start]; first < '2' || first > '6' {
		return false
	}
	sum, pos := 0, 0 // pos counts from the rightmost digit
	for gi := len(groups) - 1; gi >= 0; gi-- {
		for k := groups[gi].end - 1; k >= groups[gi].start; k-- {
			d := int(s[k] - '0')
			if pos%2 == 1 {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			pos++
		}
	}
	return sum%10 == 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// joinedBefore reports whether the digit at i continues something else: a letter, digit, '_', '/'
// or '#' right before it (an id, a path, a key), or a '.', ':' or ',' with a digit before that (a
// decimal, a time, a thousands group).
func joinedBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	c := s[i-1]
	if isWordish(c) {
		return true
	}
	return (c == '.' || c == ':' || c == ',') && i >= 2 && isDigit(s[i-2])
}

// joinedAfter is joinedBefore for the character at e, right after a run.
func joinedAfter(s string, e int) bool {
	if e >= len(s) {
		return false
	}
	c := s[e]
	if isWordish(c) {
		return true
	}
	return (c == '.' || c == ':' || c == ',') && e+1 < len(s) && isDigit(s[e+1])
}

func isWordish(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '/' || c == '#'
}

// scrubAttr redacts one attribute's value: strings and errors (as their message), and any other
// value the JSON handler would marshal (maps, structs, slices) through its JSON text. Numbers,
// booleans, times and durations are left alone; groups are walked by the caller.
func scrubAttr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		s := a.Value.String()
		if r := Redact(s); r != s {
			a.Value = slog.StringValue(r)
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case nil, slog.Level, *slog.Source:
		case error:
			a.Value = slog.StringValue(Redact(v.Error()))
		case string:
			a.Value = slog.StringValue(Redact(v))
		case []byte:
			if r := Redact(string(v)); r != string(v) {
				a.Value = slog.StringValue(r)
			}
		default:
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // as slog's JSON handler
			if enc.Encode(v) != nil {
				return a // the handler reports its own marshalling error
			}
			raw := bytes.TrimRight(buf.Bytes(), "\n")
			r := Redact(string(raw))
			switch {
			case r == string(raw):
			case json.Valid([]byte(r)):
				a.Value = slog.AnyValue(json.RawMessage(r))
			default: // a redacted number inside the JSON: keep the text, as a string
				a.Value = slog.StringValue(r)
			}
		}
	case slog.KindGroup:
		as := a.Value.Group()
		out := make([]slog.Attr, len(as))
		for i, x := range as {
			out[i] = scrubAttr(x)
		}
		a.Value = slog.GroupValue(out...)
	}
	return a
}

// replaceAttr is the JSON handler's ReplaceAttr: it sees every attribute (the message too, as
// "msg", and the members of groups), each already resolved.
func replaceAttr(_ []string, a slog.Attr) slog.Attr { return scrubAttr(a) }

// scrubHandler scrubs records on their way to any handler (used for the default logger, whose
// handler has no ReplaceAttr).
type scrubHandler struct{ inner slog.Handler }

// Scrub wraps h so that the message and every attribute of each record are redacted first.
func Scrub(h slog.Handler) slog.Handler {
	if s, ok := h.(scrubHandler); ok {
		return s
	}
	return scrubHandler{inner: h}
}

func (h scrubHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = scrubAttr(a)
	}
	return scrubHandler{inner: h.inner.WithAttrs(out)}
}

func (h scrubHandler) WithGroup(name string) slog.Handler {
	return scrubHandler{inner: h.inner.WithGroup(name)}
}
