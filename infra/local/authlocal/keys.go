// Package authlocal stands in for Cognito and the API Gateway JWT authorizer locally: it mints
// RS256 ID tokens shaped like Cognito's and verifies them the way the authorizer does, then flattens
// the claims the way API Gateway hands them to a Lambda (map[string]string).
package authlocal

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults for the local issuer and audience. The issuer is fixed rather than derived from the
// gateway's port, so a token minted by `make token` keeps working when PORT changes.
const (
	DefaultIssuer   = "https://local.liberation.dev/issuer"
	DefaultAudience = "liberation-local"
	// EnvIssuer and EnvAudience override the defaults.
	EnvIssuer   = "LOCAL_JWT_ISSUER"
	EnvAudience = "LOCAL_JWT_AUDIENCE"
	keyFile     = "signing-key.pem"
)

// Key is an RSA signing key with its key id (the RFC 7638 thumbprint, so it is stable across
// restarts for a persisted key).
type Key struct {
	Private *rsa.PrivateKey
	ID      string
}

// NewKey generates an in-memory key (tests: nothing touches disk).
func NewKey() (*Key, error) {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Key{Private: pk, ID: thumbprint(&pk.PublicKey)}, nil
}

// LoadOrCreateKey reads dir/signing-key.pem, generating and saving it on first use, so `make token`
// and a running `make dev` (two processes) sign and verify with the same key.
func LoadOrCreateKey(dir string) (*Key, error) {
	path := filepath.Join(dir, keyFile)
	if b, err := os.ReadFile(path); err == nil {
		return parseKey(b)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, err
	}
	// Write to a temp file and hard-link it into place: if two processes race on first use, the
	// loser reads the winner's key instead of overwriting it.
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateKey(dir)
		}
		return nil, err
	}
	return k, nil
}

func parseKey(b []byte) (*Key, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("authlocal: signing key file is not PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("authlocal: parse signing key: %w", err)
	}
	pk, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("authlocal: signing key is not RSA")
	}
	return &Key{Private: pk, ID: thumbprint(&pk.PublicKey)}, nil
}

// PublicPEM is the public key in PEM form (what an attacker would use as an HS256 secret).
func (k *Key) PublicPEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&k.Private.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// JWK is one JSON Web Key (RSA public key) as the key set document shows it: for readers of JWKS.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS returns the key set document served at /.well-known/jwks.json (go-jose's encoding).
func (k *Key) JWKS() []byte {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.Private.PublicKey, KeyID: k.ID,
		Algorithm: string(jose.RS256), Use: "sig"}}})
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256), base64url: the key id.
func thumbprint(pub *rsa.PublicKey) string {
	sum, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err) // an RSA public key always has one
	}
	return b64(sum)
}
