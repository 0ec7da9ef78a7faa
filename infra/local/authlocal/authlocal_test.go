package authlocal

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustAuthority(t *testing.T) *Authority {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return New(k, DefaultIssuer, DefaultAudience)
}

func TestMintVerify_OK(t *testing.T) {
	a := mustAuthority(t)
	tok, err := a.Mint("user-1", "u1@example.com", []string{"admin", "instructor"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Verify("Bearer " + tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := map[string]string{
		"sub": "user-1", "email": "u1@example.com", "cognito:groups": "[admin instructor]",
		"iss": DefaultIssuer, "aud": DefaultAudience, "token_use": "id", "email_verified": "true",
	}
	for k, w := range want {
		if got := v.Claims[k]; got != w {
			t.Errorf("claim %s = %q, want %q", k, got, w)
		}
	}
	if exp := v.Claims["exp"]; len(exp) != 10 || exp[0] < '1' {
		t.Errorf("exp = %q, want epoch seconds as written", exp)
	}
}

func TestMint_NoGroupsOmitsClaim(t *testing.T) {
	a := mustAuthority(t)
	tok, _ := a.Mint("u", "", nil, time.Minute)
	v, err := a.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Claims["cognito:groups"]; ok {
		t.Errorf("cognito:groups present for a user in no group: %q", v.Claims["cognito:groups"])
	}
}

func TestVerify_Attacks(t *testing.T) {
	a := mustAuthority(t)
	attacks, err := a.Attacks("victim")
	if err != nil {
		t.Fatal(err)
	}
	if len(attacks) < 12 {
		t.Fatalf("only %d attacks", len(attacks))
	}
	for _, at := range attacks {
		t.Run(at.Name, func(t *testing.T) {
			if _, err := a.Verify(at.Token); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("accepted (err=%v)", err)
			}
		})
	}
}

func TestVerify_ClientIDInsteadOfAud(t *testing.T) {
	a := mustAuthority(t)
	now := time.Now().Unix()
	tok, _ := a.Sign(map[string]any{"sub": "u", "iss": a.Issuer, "client_id": a.Audience,
		"token_use": "access", "exp": now + 60, "iat": now, "scope": "aws.cognito.signin.user.admin read"})
	v, err := a.Verify(tok)
	if err != nil {
		t.Fatalf("access token with client_id refused: %v", err)
	}
	if len(v.Scopes) != 2 || v.Scopes[1] != "read" {
		t.Errorf("scopes = %v", v.Scopes)
	}
	wrong, _ := a.Sign(map[string]any{"sub": "u", "iss": a.Issuer, "client_id": "other", "exp": now + 60})
	if _, err := a.Verify(wrong); err == nil {
		t.Error("wrong client_id accepted")
	}
}

func TestVerify_LeewayAndClock(t *testing.T) {
	a := mustAuthority(t)
	tok, _ := a.Mint("u", "", nil, time.Minute)
	a.Now = func() time.Time { return time.Now().Add(time.Minute + 2*time.Second) }
	if _, err := a.Verify(tok); err != nil {
		t.Errorf("2 s past exp is inside the leeway: %v", err)
	}
	a.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, err := a.Verify(tok); err == nil {
		t.Error("expired token accepted")
	}
}

func TestFlatten(t *testing.T) {
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"a":["x","y"],"n":1700000000,"f":1.5,"b":false,"s":"t","o":{"k":1},"z":null}`))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "[x y]", "n": "1700000000", "f": "1.5", "b": "false", "s": "t", "o": `{"k":1}`, "z": ""}
	for k, w := range want {
		if got := Flatten(v[k]); got != w {
			t.Errorf("Flatten(%s) = %q, want %q", k, got, w)
		}
	}
}

func TestLoadOrCreateKey_PersistsAndSurvivesRace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jwt")
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreateKey(dir)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.ID
		}()
	}
	wg.Wait()
	again, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if id != again.ID {
			t.Errorf("process %d saw key %s, file holds %s", i, id, again.ID)
		}
	}
	st, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("key file mode %v is readable by others", st.Mode().Perm())
	}
}

func TestJWKS(t *testing.T) {
	a := mustAuthority(t)
	var doc struct{ Keys []JWK }
	if err := json.Unmarshal(a.Key.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 1 || doc.Keys[0].Kid != a.Key.ID || doc.Keys[0].Alg != "RS256" || doc.Keys[0].E != "AQAB" {
		t.Errorf("jwks = %+v", doc)
	}
}

func TestDescribe(t *testing.T) {
	a := mustAuthority(t)
	attacks, _ := a.Attacks("u")
	want := map[string]string{
		"expired": "the token has expired", "wrong audience": "the token does not have a valid audience",
		"wrong issuer": "the token does not have a valid issuer", "garbage": "the token is malformed",
		"nbf in the future": "the token is not valid yet",
	}
	for _, at := range attacks {
		if w, ok := want[at.Name]; ok {
			_, err := a.Verify(at.Token)
			if got := Describe(err); got != w {
				t.Errorf("%s: %q, want %q", at.Name, got, w)
			}
		}
	}
}
