//go:build integration

package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Helpers of the enterprise licensing and support end-to-end tests.

// license is the admin view of a license as the API answers it.
type license struct {
	ID               string     `json:"id"`
	OrgName          string     `json:"orgName"`
	Status           string     `json:"status"`
	Suspended        bool       `json:"suspended"`
	Seats            int64      `json:"seats"`
	SeatsUsed        int64      `json:"seatsUsed"`
	OverageSeats     int64      `json:"overageSeats"`
	ExpiresAt        time.Time  `json:"expiresAt"`
	OveragePolicy    string     `json:"overagePolicy"`
	ExpirationPolicy string     `json:"expirationPolicy"`
	ActivatedAt      *time.Time `json:"activatedAt"`
	Key              string     `json:"key"`
	KeyID            string     `json:"keyId"`
	KeyVersion       int64      `json:"keyVersion"`
	Branding         *struct {
		DisplayName string `json:"displayName"`
	} `json:"branding"`
}

type seatView struct {
	LicenseID string `json:"licenseId"`
	UserID    string `json:"userId"`
	Overage   bool   `json:"overage"`
}

type joinResult struct {
	Seat        seatView `json:"seat"`
	Entitlement struct {
		Tier     string   `json:"tier"`
		Granted  bool     `json:"granted"`
		Features []string `json:"features"`
		Reason   string   `json:"reason"`
	} `json:"entitlement"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// refused checks a refusal's status and that its message mentions what it must.
func refused(t *testing.T, h *Harness, method, path, token string, body any, want int, mentions string) {
	t.Helper()
	var e apiError
	h.Call(t, method, path, token, body, want, &e)
	if !strings.Contains(e.Error.Message, mentions) {
		t.Fatalf("%s %s: message %q does not mention %q", method, path, e.Error.Message, mentions)
	}
}

// org is one organisation: its license and its admin.
type org struct {
	lic        license
	admin      string // the org admin's token
	adminEmail string
}

// newOrg creates (as a platform admin) and activates (as the org admin) a license.
func newOrg(t *testing.T, h *Harness, seats int64, overage, expiration string, now time.Time) org {
	t.Helper()
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")
	email := "it-" + suffix() + "@acme.example"
	var lic license
	h.Call(t, http.MethodPost, "/admin/licenses", platform, map[string]any{
		"orgName": "Acme " + suffix(), "seats": seats, "startsAt": now.Add(-time.Hour), "expiresAt": now.Add(365 * 24 * time.Hour),
		"overagePolicy": overage, "expirationPolicy": expiration, "adminEmails": []string{email},
	}, http.StatusCreated, &lic)
	admin := h.Token(t, "admin-"+suffix(), email)
	h.Call(t, http.MethodPost, "/licenses/activate", admin, map[string]string{"key": lic.Key}, http.StatusOK, &lic)
	return org{lic: lic, admin: admin, adminEmail: email}
}

// invite creates an invite code for maxUses joins.
func (o org) invite(t *testing.T, h *Harness, maxUses int) string {
	t.Helper()
	var inv struct {
		Code string `json:"code"`
	}
	h.Call(t, http.MethodPost, "/licenses/"+o.lic.ID+"/invites", o.admin, map[string]any{"maxUses": maxUses}, http.StatusCreated, &inv)
	return inv.Code
}

// member joins the organisation with a fresh user and returns the user's id and token.
func (o org) member(t *testing.T, h *Harness, code string) (string, string) {
	t.Helper()
	id := "learner-" + suffix()
	tok := h.Token(t, id, id+"@acme.example")
	h.Call(t, http.MethodPost, "/licenses/join", tok, map[string]string{"code": code}, http.StatusCreated, nil)
	return id, tok
}

// verifyOffline verifies a license key with the published JWK set alone, using nothing but
// crypto/ed25519, encoding/base64 and encoding/json: find the key by kid, require alg EdDSA, verify
// the signature over "<header>.<payload>", return the claims.
func verifyOffline(token string, jwks []byte) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS compact token")
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, err
	}
	var header struct{ Alg, Kid string }
	if err := json.Unmarshal(rawHeader, &header); err != nil {
		return nil, err
	}
	if header.Alg != "EdDSA" {
		return nil, errors.New("alg is not EdDSA")
	}
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k.Kid != header.Kid || k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		pub, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, errors.New("bad key")
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			return nil, err
		}
		if !ed25519.Verify(ed25519.PublicKey(pub), []byte(parts[0]+"."+parts[1]), sig) {
			return nil, errors.New("signature does not verify")
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.UseNumber()
		return claims, dec.Decode(&claims)
	}
	return nil, errors.New("no key with that kid")
}

// tamper changes one character of the token's payload to another base64url character whose
// decoding differs (a middle character: all six of its bits are used).
func tamper(token string) string {
	parts := strings.Split(token, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
