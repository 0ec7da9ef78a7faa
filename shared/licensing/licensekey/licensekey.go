// Package licensekey signs and verifies enterprise license keys: JWS compact tokens signed with
// Ed25519 (alg "EdDSA", RFC 8037), and publishes the verification keys as a JWK set (kty "OKP",
// crv "Ed25519", kid = the key's RFC 7638 thumbprint), so anyone can verify a key offline with a
// standard JOSE library. It is pure: no storage, no clock (the caller checks exp/nbf against its
// own). The JOSE encoding is go-jose v4 (docs/decisions/0050).
package licensekey

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is the iss claim of every license key.
const Issuer = "liberation"

// TokenType is the typ header of a license key.
const TokenType = "JWT"

// Claims are what a license key asserts. Times are Unix seconds (JWT NumericDate).
type Claims struct {
	Issuer           string   `json:"iss"`
	Subject          string   `json:"sub"` // the license id
	LicenseID        string   `json:"lid"`
	OrgID            string   `json:"org"`
	OrgName          string   `json:"orgName"`
	Seats            int64    `json:"seats"`
	Features         []string `json:"features"`
	OveragePolicy    string   `json:"overagePolicy"`
	ExpirationPolicy string   `json:"expirationPolicy"`
	NotBefore        int64    `json:"nbf"`
	IssuedAt         int64    `json:"iat"`
	Expiry           int64    `json:"exp"`
	// Version counts the keys issued for the license; a re-issue (PATCH) supersedes older keys.
	Version   int64 `json:"ver"`
	Suspended bool  `json:"suspended,omitempty"`
}

// Errors Verify returns; callers turn them into reasons (422).
var (
	ErrMalformed = errors.New("the key is not a JWS compact token")
	ErrAlgorithm = errors.New("the key is not signed with EdDSA")
	ErrSignature = errors.New("the key's signature does not verify")
	ErrClaims    = errors.New("the key's claims are not a license")
)

// GenerateKeyPEM returns a new Ed25519 private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"),
// the format `openssl genpkey -algorithm ed25519` writes and the SSM parameter holds.
func GenerateKeyPEM() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// ParsePrivateKeyPEM reads a PKCS#8 PEM Ed25519 private key.
func ParsePrivateKeyPEM(s string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("license signing key: not a PKCS#8 PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("license signing key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("license signing key: %T, want Ed25519", k)
	}
	return priv, nil
}

// KeyID is the RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: the kid.
func KeyID(pub ed25519.PublicKey) string {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err) // only an invalid key type can fail, and the type is fixed
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// Signer signs license keys with one private key.
type Signer struct {
	pub    ed25519.PublicKey
	kid    string
	signer jose.Signer
}

// NewSigner returns a signer for priv; its kid is the public key's thumbprint.
func NewSigner(priv ed25519.PrivateKey) (*Signer, error) {
	pub, ok := priv.Public().(ed25519.PublicKey)
	if !ok || len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("license signing key: not an Ed25519 private key")
	}
	kid := KeyID(pub)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(TokenType))
	if err != nil {
		return nil, err
	}
	return &Signer{pub: pub, kid: kid, signer: s}, nil
}

// KeyID is the kid this signer puts in every header.
func (s *Signer) KeyID() string { return s.kid }

// PublicKey is the verification key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.pub }

// Sign returns the JWS compact token of c.
func (s *Signer) Sign(c Claims) (string, error) {
	c.Issuer = Issuer
	c.Subject = c.LicenseID
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// KeyIDOf returns the kid in a token's header, before any verification (to find the key).
func KeyIDOf(token string) (string, error) {
	h, err := header(token)
	return h.Kid, err
}

type protected struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// header checks the token's shape (three canonical base64url segments) and reads its protected
// header, refusing any algorithm but EdDSA before a JOSE parser sees the token.
func header(token string) (protected, error) {
	var h protected
	if err := canonical(token); err != nil {
		return h, err
	}
	raw, _ := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	if err := json.Unmarshal(raw, &h); err != nil || h.Kid == "" {
		return h, ErrMalformed
	}
	if h.Alg != string(jose.EdDSA) {
		return h, ErrAlgorithm
	}
	return h, nil
}

// Verify checks token against pub and returns its claims. Only EdDSA is accepted, and every segment
// must be canonical base64url, so that any changed character — even one in the unused low bits of a
// segment's last character — fails.
func Verify(token string, pub ed25519.PublicKey) (Claims, error) {
	if _, err := header(token); err != nil {
		return Claims{}, err
	}
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return Claims{}, ErrMalformed
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return Claims{}, ErrSignature
	}
	var c Claims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Issuer != Issuer || c.LicenseID == "" || c.Subject != c.LicenseID ||
		c.Expiry == 0 || c.Version < 1 {
		return Claims{}, ErrClaims
	}
	return c, nil
}

// canonical checks the three segments decode as unpadded base64url and re-encode to themselves.
func canonical(token string) error {
	parts := strings.Split(token, ".")
	if len(token) > 8192 || len(parts) != 3 {
		return ErrMalformed
	}
	for _, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || len(b) == 0 || base64.RawURLEncoding.EncodeToString(b) != p {
			return ErrMalformed
		}
	}
	return nil
}

// PublicKey is one verification key of the set.
type PublicKey struct {
	KeyID string
	Key   ed25519.PublicKey
}

// JWK is one key of a JWK set as published (RFC 7517, RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKSet is the published document.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// Set renders keys as a JWK set, through go-jose's own JWK encoding.
func Set(keys []PublicKey) (JWKSet, error) {
	out := JWKSet{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		raw, err := json.Marshal(jose.JSONWebKey{Key: k.Key, KeyID: k.KeyID, Algorithm: string(jose.EdDSA), Use: "sig"})
		if err != nil {
			return JWKSet{}, err
		}
		var j JWK
		if err := json.Unmarshal(raw, &j); err != nil {
			return JWKSet{}, err
		}
		out.Keys = append(out.Keys, j)
	}
	return out, nil
}
