package payments

import (
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Deps is what payments' code uses, built per function from its runtime: optional parts only for
// functions whose manifest entry declares them (Stripe, Sends, Bucket, Email).
type Deps struct {
	Config platform.Config
	Clock  clock.Clock
	Store  *store.Store
	Stripe *stripeapi.Client
	Queue  queue.Sender
	Blobs  blob.Store
	Mail   mail.Sender
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	d := &Deps{Config: rt.Config, Clock: rt.Clock, Store: store.Open(rt)}
	var err error
	if rt.Fn.Stripe {
		d.Stripe = stripeapi.Open(rt)
	}
	if len(rt.Fn.Sends) > 0 {
		if d.Queue, err = queue.From(rt); err != nil {
			return nil, err
		}
	}
	if len(rt.Fn.Bucket) > 0 {
		if d.Blobs, err = blob.From(rt); err != nil {
			return nil, err
		}
	}
	if rt.Fn.Email {
		if d.Mail, err = mail.From(rt); err != nil {
			return nil, err
		}
	}
	return d, nil
}
