package authlocal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

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
	c := jwt.MapClaims{
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
func (a *Authority) Sign(c jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = a.Key.ID
	return t.SignedString(a.Key.Private)
}

// Verified is what the authorizer passes on: claims flattened as API Gateway does, and scopes.
type Verified struct {
	Claims map[string]string
	Scopes []string
}

// ErrUnauthorized wraps every verification failure; the gateway answers 401 for all of them alike.
var ErrUnauthorized = errors.New("unauthorized")

var errAudience = errors.New("token has invalid audience")

// Describe is the error_description API Gateway puts in its www-authenticate header for err.
func Describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is not valid yet"
	case errors.Is(err, errAudience):
		return "the token does not have a valid audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the token does not have a valid issuer"
	case errors.Is(err, jwt.ErrTokenMalformed):
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
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(a.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(a.Leeway),
		jwt.WithTimeFunc(a.now),
		jwt.WithJSONNumber(), // keep numbers as written, so "exp" flattens to "1700000000"
	)
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != a.Key.ID {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return &a.Key.Private.PublicKey, nil
	})
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if !a.audienceOK(claims) {
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

func (a *Authority) audienceOK(c jwt.MapClaims) bool {
	aud, _ := c.GetAudience()
	for _, x := range aud {
		if x == a.Audience {
			return true
		}
	}
	if len(aud) == 0 {
		cid, _ := c["client_id"].(string)
		return cid == a.Audience
	}
	return false
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
