package licensing

import (
	"context"
	"encoding/base64"
	"sync"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Deps is what licensing's code uses, built per function from its runtime: the mailer only where
// the manifest declares Email, the signing key only where it declares SigningKey.
type Deps struct {
	Config platform.Config
	Clock  clock.Clock
	Store  *store.Store
	Mail   mail.Sender                                       // nil unless Email
	Signer func(context.Context) (*licensekey.Signer, error) // nil unless SigningKey
	// forget drops the signer a container keeps, so that the next use reads the key parameter again
	// (after a write found its key retired).
	forget func()
}

func (d *Deps) forgetSigner() {
	if d.forget != nil {
		d.forget()
	}
}

// NewDeps builds Deps for the runtime's function (the signing functions add their signer with
// withSigner, so that no other function links the JOSE signing code).
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	d := &Deps{Config: rt.Config, Clock: rt.Clock, Store: store.Open(rt)}
	if rt.Fn.Email {
		m, err := mail.From(rt)
		if err != nil {
			return nil, err
		}
		d.Mail = m
	}
	return d, nil
}

// withSigner gives d the license-signing key of rt (functions whose manifest declares SigningKey).
func withSigner(rt *platform.Runtime, d *Deps) (*Deps, error) {
	if !rt.Fn.SigningKey {
		return nil, apperr.New(apperr.Internal, "function %s signs license keys: declare SigningKey in its manifest entry", rt.Fn.Name)
	}
	k := &keyring{read: func(ctx context.Context) (string, error) {
		return rt.Secrets.Get(ctx, manifest.EnvLicenseKey, manifest.EnvLicenseKeyParam)
	}, store: d.Store, clock: d.Clock}
	d.Signer, d.forget = k.signer, k.forget
	return d, nil
}

// keyring reads the private key on first use (no network call at cold start), registers its public
// key in the table's key set (so GET /licenses/public-key and activation know it) and keeps the
// signer for the life of the container. After a rotation, new containers sign with the new key
// while the old one stays in the set until retired (docs/runbooks/rotate-license-signing-key.md).
type keyring struct {
	read  func(context.Context) (string, error)
	store *store.Store
	clock clock.Clock
	mu    sync.Mutex
	s     *licensekey.Signer
}

func (k *keyring) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.s = nil
}

func (k *keyring) signer(ctx context.Context) (*licensekey.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.s != nil {
		return k.s, nil
	}
	raw, err := k.read(ctx)
	if err != nil {
		return nil, err
	}
	priv, err := licensekey.ParsePrivateKeyPEM(raw)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "license signing key is unusable")
	}
	s, err := licensekey.NewSigner(priv)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "license signing key is unusable")
	}
	kk := store.SigningKeyKey(s.KeyID())
	rec := SigningKeyRecord{PK: kk.PK, SK: kk.SK, Type: "license-signing-key", KeyID: s.KeyID(),
		X: base64.RawURLEncoding.EncodeToString(s.PublicKey()), CreatedAt: k.clock.Now().UTC()}
	// Registered once; a retired key (flag set by an operator) is never re-published by a container
	// still holding it: signing with it fails instead.
	if err := k.store.Put(ctx, rec, "attribute_not_exists(PK)", nil, nil); err != nil && !store.IsConditionFailed(err) {
		return nil, err
	}
	var cur SigningKeyRecord
	if err := k.store.GetConsistent(ctx, kk, &cur); err != nil {
		return nil, err
	}
	if cur.Retired {
		return nil, apperr.New(apperr.Unavailable, "the configured license signing key %s is retired; rotate the parameter", s.KeyID())
	}
	k.s = s
	return s, nil
}
