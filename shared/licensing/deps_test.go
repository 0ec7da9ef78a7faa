package licensing

import (
	"context"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// runtimeOf is the runtime of a licensing function with env as its environment (no network call
// is made building it).
func runtimeOf(t *testing.T, name string, env map[string]string) *platform.Runtime {
	t.Helper()
	rt, err := platform.New(context.Background(), manifest.MustByName(name), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// Deps from a function's runtime: every port is the DynamoDB repository over the function's table;
// the mailer only where the manifest declares Email, the signing key only where it declares
// SigningKey.
func TestDepsFromTheRuntime(t *testing.T) {
	env := map[string]string{manifest.EnvTable: "licenses-table"}
	d, err := NewDeps(runtimeOf(t, "list-licenses", env))
	if err != nil {
		t.Fatal(err)
	}
	repo, ok := d.Licenses.(*dynamoRepo)
	if !ok || d.Store == nil || repo.s != d.Store || d.Store.Table != "licenses-table" || d.Mail != nil || d.Signer != nil || d.Sent != d.Store {
		t.Fatalf("deps %+v", d)
	}
	for name, port := range map[string]any{"seats": d.Seats, "brandings": d.Brandings, "activity": d.Activity, "usage": d.Usage, "keys": d.Keys} {
		if port != any(repo) {
			t.Fatalf("%s is %T, not the repository", name, port)
		}
	}
	if _, err := withSigner(runtimeOf(t, "list-licenses", env), d); apperr.CodeOf(err) != apperr.Internal ||
		!strings.Contains(err.Error(), "declare SigningKey") {
		t.Fatalf("a function that does not sign got a signer: %v", err)
	}
	// A function that sends e-mail needs the mail capability its generated main installs.
	if _, err := NewDeps(runtimeOf(t, "create-license-invite", env)); err == nil || !strings.Contains(err.Error(), "capability") {
		t.Fatalf("an e-mailing function without a mailer: %v", err)
	}
}

// The signer of a signing function comes from its key parameter, on first use: its public key is
// published, and a retired key is refused rather than used.
func TestSignerFromTheKeyParameter(t *testing.T) {
	ctx := context.Background()
	pem, err := licensekey.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	rt := runtimeOf(t, "create-license", map[string]string{manifest.EnvTable: "t", manifest.EnvLicenseKey: pem})
	d, err := NewDeps(rt)
	if err != nil {
		t.Fatal(err)
	}
	repo := newMemRepo()
	if d, err = withSigner(rt, withRepo(d, repo)); err != nil {
		t.Fatal(err)
	}
	s, err := d.Signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := repo.SigningKey(ctx, s.KeyID())
	if err != nil || rec.Retired {
		t.Fatalf("published %+v %v", rec, err)
	}
	if again, _ := d.Signer(ctx); again != s {
		t.Fatal("the signer is read again while kept")
	}
	rec.Retired = true
	repo.keys[s.KeyID()] = rec
	d.forgetSigner()
	if _, err := d.Signer(ctx); apperr.CodeOf(err) != apperr.Unavailable || !strings.Contains(err.Error(), "retired") {
		t.Fatalf("a retired key: %v", err)
	}

	none := runtimeOf(t, "create-license", map[string]string{manifest.EnvTable: "t"})
	nd, err := NewDeps(none)
	if err != nil {
		t.Fatal(err)
	}
	if nd, err = withSigner(none, withRepo(nd, newMemRepo())); err != nil {
		t.Fatal(err)
	}
	if _, err := nd.Signer(ctx); err == nil || !strings.Contains(err.Error(), manifest.EnvLicenseKey) {
		t.Fatalf("no key configured: %v", err)
	}
	bad := runtimeOf(t, "create-license", map[string]string{manifest.EnvTable: "t", manifest.EnvLicenseKey: "not a key"})
	bd, _ := NewDeps(bad)
	if bd, err = withSigner(bad, withRepo(bd, newMemRepo())); err != nil {
		t.Fatal(err)
	}
	if _, err := bd.Signer(ctx); apperr.CodeOf(err) != apperr.Internal || !strings.Contains(err.Error(), "unusable") {
		t.Fatalf("a malformed key: %v", err)
	}
}
