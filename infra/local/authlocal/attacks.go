package authlocal

import (
	"encoding/base64"
	"encoding/json"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Attack is a token the authorizer must refuse, with the attack it represents.
type Attack struct {
	Name  string
	Token string
}

// Attacks returns one bad token per broken-auth technique (OWASP API2): tests at every level (this
// package, the gateway, end to end) run the same list so none can be forgotten in one of them.
func (a *Authority) Attacks(sub string) ([]Attack, error) {
	now := a.now()
	base := func() Claims {
		return Claims{"sub": sub, "iss": a.Issuer, "aud": a.Audience, "token_use": "id",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"cognito:groups": []string{"admin"}}
	}
	with := func(k string, v any) Claims { c := base(); c[k] = v; return c }
	var out []Attack
	add := func(name, tok string, err error) error {
		if err == nil {
			out = append(out, Attack{name, tok})
		}
		return err
	}

	other, err := NewKey()
	if err != nil {
		return nil, err
	}
	forger := &Authority{Key: &Key{Private: other.Private, ID: a.Key.ID}, Issuer: a.Issuer, Audience: a.Audience}
	unknownKid := &Authority{Key: other, Issuer: a.Issuer, Audience: a.Audience}

	good, err := a.Sign(base())
	if err != nil {
		return nil, err
	}
	out = append(out, Attack{"no token", ""}, Attack{"garbage", "not.a.jwt"},
		Attack{"tampered payload", tamper(good, with("sub", "someone-else"))})
	steps := []struct {
		name string
		sign func() (string, error)
	}{
		{"forged signature (other RSA key, our kid)", func() (string, error) { return forger.Sign(base()) }},
		{"unknown kid", func() (string, error) { return unknownKid.Sign(base()) }},
		{"alg none", func() (string, error) { return unsigned(a.Key.ID, base()) }},
		{"HS256 signed with the public key PEM", func() (string, error) {
			return sign(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: a.Key.PublicPEM(), KeyID: a.Key.ID}}, base())
		}},
		{"expired", func() (string, error) { return a.Sign(with("exp", now.Add(-time.Hour).Unix())) }},
		{"no exp", func() (string, error) { c := base(); delete(c, "exp"); return a.Sign(c) }},
		{"nbf in the future", func() (string, error) { return a.Sign(with("nbf", now.Add(time.Hour).Unix())) }},
		{"iat in the future", func() (string, error) { return a.Sign(with("iat", now.Add(time.Hour).Unix())) }},
		{"wrong audience", func() (string, error) { return a.Sign(with("aud", "some-other-client")) }},
		{"wrong issuer", func() (string, error) { return a.Sign(with("iss", "https://evil.example/issuer")) }},
	}
	for _, s := range steps {
		tok, err := s.sign()
		if err := add(s.name, tok, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unsigned is an "alg":"none" token (no library signs one: it is written by hand, as an attacker
// would).
func unsigned(kid string, c Claims) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + ".", nil
}

// tamper swaps a signed token's payload for another, keeping header and signature.
func tamper(tok string, c Claims) string {
	b, _ := json.Marshal(c)
	parts := splitDots(tok)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

func splitDots(s string) [3]string {
	var out [3]string
	i := 0
	start := 0
	for j := 0; j < len(s) && i < 2; j++ {
		if s[j] == '.' {
			out[i] = s[start:j]
			i++
			start = j + 1
		}
	}
	out[i] = s[start:]
	return out
}
