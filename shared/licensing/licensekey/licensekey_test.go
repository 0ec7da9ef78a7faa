package licensekey

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustSigner(t *testing.T) *Signer {
	t.Helper()
	pemKey, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKeyPEM(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sample() Claims {
	return Claims{LicenseID: "lic_01JDZ8K3M4N5P6Q7R8S9T0VWXY", OrgID: "org_01JDZ8K3M4N5P6Q7R8S9T0VWXY", OrgName: "Acme <Corp>",
		Seats: 10, Features: []string{"sla-support", "white-label"}, OveragePolicy: "block", ExpirationPolicy: "restrict",
		NotBefore: 1795869300, IssuedAt: 1795869300, Expiry: 1827405300, Version: 1}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s := mustSigner(t)
	tok, err := s.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(tok, s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.Issuer, want.Subject = Issuer, want.LicenseID
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Fatalf("claims\n got %s\nwant %s", a, b)
	}
	kid, err := KeyIDOf(tok)
	if err != nil || kid != s.KeyID() {
		t.Fatalf("kid %q %v, want %q", kid, err, s.KeyID())
	}
	// The header is exactly what RFC 8037 and our verifiers expect.
	var h map[string]string
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err := json.Unmarshal(raw, &h); err != nil || h["alg"] != "EdDSA" || h["kid"] != s.KeyID() || h["typ"] != "JWT" || len(h) != 3 {
		t.Fatalf("header %s", raw)
	}
}

// Changing any single character of a key — header, claims or signature, including the unused low
// bits of a segment's last character — makes it fail.
func TestEveryOneCharacterChangeFails(t *testing.T) {
	s := mustSigner(t)
	tok, err := s.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range tok {
		if tok[i] == '.' {
			continue
		}
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, tok[i])+1)%64], alphabet[(strings.IndexByte(alphabet, tok[i])+63)%64]} {
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := Verify(bad, s.PublicKey()); err == nil {
				t.Fatalf("changing position %d to %q still verifies", i, c)
			}
		}
	}
	// One byte changed in the decoded claims, re-encoded canonically: the signature fails.
	parts := strings.Split(tok, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	claims = []byte(strings.Replace(string(claims), `"seats":10`, `"seats":90`, 1))
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]
	if _, err := Verify(forged, s.PublicKey()); !errors.Is(err, ErrSignature) {
		t.Fatalf("more seats in the claims: %v, want ErrSignature", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	s, other := mustSigner(t), mustSigner(t)
	tok, _ := s.Sign(sample())
	parts := strings.Split(tok, ".")
	enc := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"OtherKey", tok, ErrSignature},
		{"Empty", "", ErrMalformed},
		{"TwoSegments", parts[0] + "." + parts[1], ErrMalformed},
		{"Padded", tok + "=", ErrMalformed},
		{"AlgNone", enc(`{"alg":"none","kid":"`+s.KeyID()+`"}`) + "." + parts[1] + "." + parts[2], ErrAlgorithm},
		{"HS256", enc(`{"alg":"HS256","kid":"`+s.KeyID()+`"}`) + "." + parts[1] + "." + parts[2], ErrAlgorithm},
		{"NoKid", enc(`{"alg":"EdDSA"}`) + "." + parts[1] + "." + parts[2], ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := s.PublicKey()
			if tc.name == "OtherKey" {
				pub = other.PublicKey()
			}
			if _, err := Verify(tc.token, pub); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	// A validly signed payload that is not a license.
	for _, payload := range []string{`{"iss":"someone","sub":"x","lid":"x","exp":1,"ver":1}`, `{"iss":"liberation","sub":"y","lid":"x","exp":1,"ver":1}`,
		`{"iss":"liberation","sub":"x","lid":"x","exp":1,"ver":1,"admin":true}`, `{"iss":"liberation","sub":"x","lid":"x","exp":0,"ver":1}`} {
		priv := signerKey(t)
		signer, _ := NewSigner(priv)
		input := enc(`{"alg":"EdDSA","kid":"`+signer.KeyID()+`","typ":"JWT"}`) + "." + enc(payload)
		sig := base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
		if _, err := Verify(input+"."+sig, signer.PublicKey()); !errors.Is(err, ErrClaims) {
			t.Errorf("payload %s: %v, want ErrClaims", payload, err)
		}
	}
}

func signerKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	p, _ := GenerateKeyPEM()
	k, err := ParsePrivateKeyPEM(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// RFC 8037 appendix A: the example key's thumbprint and signature, so our encoding is the standard's.
func TestRFC8037Vectors(t *testing.T) {
	d, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	priv := ed25519.NewKeyFromSeed(d)
	pub := priv.Public().(ed25519.PublicKey)
	if x := base64.RawURLEncoding.EncodeToString(pub); x != "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" {
		t.Fatalf("x = %s", x)
	}
	if kid := KeyID(pub); kid != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint = %s", kid)
	}
	input := "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
	want := "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
	if sig := base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input))); sig != want {
		t.Fatalf("signature = %s", sig)
	}
}

// The JWK set carries exactly the RFC 8037 members, and its kid is the RFC 7638 thumbprint computed
// by hand from the required members in lexicographic order.
func TestJWKSet(t *testing.T) {
	s := mustSigner(t)
	set, err := Set([]PublicKey{{KeyID: s.KeyID(), Key: s.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	raw := mustJSON(t, set)
	x := base64.RawURLEncoding.EncodeToString(s.PublicKey())
	want := `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"` + s.KeyID() + `","alg":"EdDSA","use":"sig"}]}`
	if raw != want {
		t.Fatalf("JWK set\n got %s\nwant %s", raw, want)
	}
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	if kid := base64.RawURLEncoding.EncodeToString(sum[:]); kid != s.KeyID() {
		t.Fatalf("kid %s, thumbprint %s", s.KeyID(), kid)
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	for _, bad := range []string{"", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"} {
		if _, err := ParsePrivateKeyPEM(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// The PKCS#8 form `openssl genpkey -algorithm ed25519` writes (RFC 8410 example key).
	const opensslPEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n"
	if _, err := ParsePrivateKeyPEM(opensslPEM); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
