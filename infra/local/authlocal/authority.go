package authlocal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are a token's claims as they are signed.
type Claims map[string]any

// Authority mints and verifies local tokens.
type Authority struct {
	Key      *Key
	Issuer   string
	Audience string
	// Leeway tolerates small clock skew on exp, nbf and iat (API Gateway allows a little too).
	Leeway time.Duration
	// Now is the clock (tests move it); nil means time.Now.
	Now func() time.Time
}

// New returns an Authority with the default leeway.
func New(key *Key, issuer, audience string) *Authority {
	return &Authority{Key: key, Issuer: issuer, Audience: audience, Leeway: 5 * time.Second}
}

// FromEnv is New with issuer and audience from LOCAL_JWT_ISSUER / LOCAL_JWT_AUDIENCE or the defaults.
func FromEnv(key *Key, getenv func(string) string) *Authority {
	iss, aud := getenv(EnvIssuer), getenv(EnvAudience)
	if iss == "" {
		iss = DefaultIssuer
	}
	if aud == "" {
		aud = DefaultAudience
	}
	return New(key, iss, aud)
}

func (a *Authority) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Mint returns a Cognito-shaped ID token for sub. groups become the cognito:groups array (omitted
// when empty, as Cognito omits it for a user in no group).
func (a *Authority) Mint(sub, email string, groups []string, ttl time.Duration) (string, error) {
	return a.MintEmail(sub, email, true, groups, ttl)
}

// MintEmail is Mint with the e-mail's verification stated: Cognito issues email_verified false for
// an address a user typed and has not confirmed (tests of what an unverified address may decide).
func (a *Authority) MintEmail(sub, email string, verified bool, groups []string, ttl time.Duration) (string, error) {
	if sub == "" {
		return "", errors.New("authlocal: sub is required")
	}
	now := a.now()
	c := Claims{
		"sub":              sub,
		"iss":              a.Issuer,
		"aud":              a.Audience,
		"token_use":        "id",
		"cognito:username": sub,
		"auth_time":        now.Unix(),
		"iat":              now.Unix(),
		"nbf":              now.Unix(),
		"exp":              now.Add(ttl).Unix(),
		"jti":              randomID(),
	}
	if email != "" {
		c["email"] = email
		c["email_verified"] = verified
	}
	if len(groups) > 0 {
		c["cognito:groups"] = groups
	}
	return a.Sign(c)
}

// Sign signs arbitrary claims with the authority's key and kid (tests build bad tokens with it).
func (a *Authority) Sign(c Claims) (string, error) {
	return sign(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: a.Key.Private, KeyID: a.Key.ID}}, c)
}

// sign is a compact JWS of c (typ JWT) with key.
func sign(key jose.SigningKey, c Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	s, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// Verified is what the authorizer passes on: claims flattened as API Gateway does, and scopes.
type Verified struct {
	Claims map[string]string
	Scopes []string
}

// ErrUnauthorized wraps every verification failure; the gateway answers 401 for all of them alike.
var ErrUnauthorized = errors.New("unauthorized")

var (
	errAudience  = errors.New("token has invalid audience")
	errMalformed = errors.New("token is malformed")
	errNoExpiry  = errors.New("token has no expiry (exp)")
)

// Describe is the error_description API Gateway puts in its www-authenticate header for err.
func Describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "the token is not valid yet"
	case errors.Is(err, errAudience):
		return "the token does not have a valid audience"
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "the token does not have a valid issuer"
	case errors.Is(err, errMalformed):
		return "the token is malformed"
	}
	return "the token is invalid"
}

// Verify checks a bearer token as the HTTP API JWT authorizer does: RS256 only, a known kid, the
// signature, iss, aud (or client_id, as on Cognito access tokens), exp (required), nbf and iat.
// A leading "Bearer " is optional, as it is for API Gateway.
func (a *Authority) Verify(raw string) (Verified, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" {
		return Verified{}, fmt.Errorf("%w: no token", ErrUnauthorized)
	}
	// Only RS256 parses: alg none and HS256 (signed with the public key) are refused here.
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(obj.Signatures) != 1 {
		return Verified{}, fmt.Errorf("%w: %w: %v", ErrUnauthorized, errMalformed, err)
	}
	if kid := obj.Signatures[0].Header.KeyID; kid != a.Key.ID {
		return Verified{}, fmt.Errorf("%w: unknown kid %q", ErrUnauthorized, kid)
	}
	payload, err := obj.Verify(&a.Key.Private.PublicKey)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	var std jwt.Claims
	claims := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // keep numbers as written, so "exp" flattens to "1700000000"
	if json.Unmarshal(payload, &std) != nil || dec.Decode(&claims) != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrUnauthorized, errMalformed)
	}
	if std.Expiry == nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrUnauthorized, errNoExpiry)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: a.Issuer, Time: a.now()}, a.Leeway); err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if !a.audienceOK(std.Audience, claims) {
		return Verified{}, fmt.Errorf("%w: %w", ErrUnauthorized, errAudience)
	}
	v := Verified{Claims: make(map[string]string, len(claims))}
	for k, val := range claims {
		v.Claims[k] = Flatten(val)
	}
	if s, _ := claims["scope"].(string); s != "" {
		v.Scopes = strings.Fields(s)
	}
	return v, nil
}

func (a *Authority) audienceOK(aud jwt.Audience, c map[string]any) bool {
	if len(aud) == 0 {
		cid, _ := c["client_id"].(string)
		return cid == a.Audience
	}
	return aud.Contains(a.Audience)
}

// Flatten renders a claim value the way API Gateway does for a map[string]string: strings as is,
// numbers as written, arrays as "[a b]" (so cognito:groups ["admin","instructor"] becomes
// "[admin instructor]"). Objects, which our tokens never carry, are rendered as compact JSON.
func Flatten(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Flatten(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
