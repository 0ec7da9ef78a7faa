package licensing

import (
	"context"
	"encoding/base64"
	"sync"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// Deps is what licensing's code uses, built per function from its runtime: the mailer only where
// the manifest declares Email, the signing key only where it declares SigningKey. Handlers and rules
// use only the ports (ports.go); Store is kept for the wiring that needs the table itself (the
// Idempotency-Key frame) and for integration tests.
type Deps struct {
	Config    platform.Config
	Clock     clock.Clock
	Store     *store.Store
	Licenses  licenseStore
	Seats     seatStore
	Brandings brandingStore
	Activity  usageRecorder
	Usage     usageStore
	Keys      signingKeys
	Sent      idempotency.Store                                 // e-mails sent once (notify.SendOnce)
	Mail      mail.Sender                                       // nil unless Email
	Signer    func(context.Context) (*licensekey.Signer, error) // nil unless SigningKey
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
	s := store.Open(rt)
	d := withRepo(&Deps{Config: rt.Config, Clock: rt.Clock, Store: s}, newDynamoRepo(s))
	d.Sent = s
	if rt.Fn.Email {
		m, err := mail.From(rt)
		if err != nil {
			return nil, err
		}
		d.Mail = m
	}
	return d, nil
}

// repository is every port: what dynamoRepo and the unit tests' memRepo implement.
type repository interface {
	licenseStore
	seatStore
	brandingStore
	usageRecorder
	usageStore
	signingKeys
}

// withRepo gives d every port from r.
func withRepo(d *Deps, r repository) *Deps {
	d.Licenses, d.Seats, d.Brandings, d.Activity, d.Usage, d.Keys = r, r, r, r, r, r
	return d
}

// withSigner gives d the license-signing key of rt (functions whose manifest declares SigningKey).
func withSigner(rt *platform.Runtime, d *Deps) (*Deps, error) {
	if !rt.Fn.SigningKey {
		return nil, apperr.New(apperr.Internal, "function %s signs license keys: declare SigningKey in its manifest entry", rt.Fn.Name)
	}
	k := &keyring{read: func(ctx context.Context) (string, error) {
		return rt.Secrets.Get(ctx, manifest.EnvLicenseKey, manifest.EnvLicenseKeyParam)
	}, keys: d.Keys, clock: d.Clock}
	d.Signer, d.forget = k.signer, k.forget
	return d, nil
}

// keyring reads the private key on first use (no network call at cold start), registers its public
// key in the table's key set (so GET /licenses/public-key and activation know it) and keeps the
// signer for the life of the container. After a rotation, new containers sign with the new key
// while the old one stays in the set until retired (docs/runbooks/rotate-license-signing-key.md).
type keyring struct {
	read  func(context.Context) (string, error)
	keys  signingKeys
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
	rec := SigningKeyRecord{KeyID: s.KeyID(), X: base64.RawURLEncoding.EncodeToString(s.PublicKey()),
		CreatedAt: k.clock.Now().UTC()}
	// Registered once; a retired key (flag set by an operator) is never re-published by a container
	// still holding it: signing with it fails instead.
	if err := k.keys.RegisterSigningKey(ctx, rec); err != nil {
		return nil, err
	}
	cur, err := k.keys.SigningKey(ctx, s.KeyID())
	if err != nil {
		return nil, err
	}
	if cur.Retired {
		return nil, apperr.New(apperr.Unavailable, "the configured license signing key %s is retired; rotate the parameter", s.KeyID())
	}
	k.s = s
	return s, nil
}
