//go:build integration

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
)

// Stripe under load: the subscription histories of many users, every event delivered two or three
// times, all deliveries shuffled together and sent by parallel senders, as Stripe's retries and
// its lack of ordering produce. Every delivery must end in a 2xx (a 409 "in progress" — the
// duplicate of an event still being applied — is retried, as Stripe would); no 5xx at all; each
// event applied exactly once; and each user ends in the state of their latest event.
func TestWebhookLoad(t *testing.T) {
	const users, senders = 40, 12
	h := Start(t)
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))

	type want struct {
		tier, status string
		cancel       bool
	}
	base := time.Now().Add(-4 * time.Minute).Truncate(time.Second)
	periodEnd := base.AddDate(0, 1, 0)
	run := strconv.FormatInt(seed, 36)
	expect := map[string]want{}
	type delivery struct {
		user, eventID string
		payload       []byte
	}
	var deliveries []delivery
	events := 0
	for u := 0; u < users; u++ {
		user := fmt.Sprintf("load-%s-%02d", run, u)
		ev := func(typ string, off time.Duration, mod func(*stripeevents.Options)) stripeevents.Options {
			o := stripeevents.Options{UserID: user, Created: base.Add(off), PeriodStart: base, PeriodEnd: periodEnd,
				EventID: fmt.Sprintf("evt_%s_%s_%d", user, typ, off/time.Second)}
			if mod != nil {
				mod(&o)
			}
			return o
		}
		incomplete := func(o *stripeevents.Options) { o.Status = "incomplete" }
		cancel := func(o *stripeevents.Options) { o.CancelAtPeriodEnd = true }
		type event struct {
			typ string
			o   stripeevents.Options
		}
		var history []event
		// Three kinds of history, so that "the latest event wins" is checked against different ends.
		switch u % 3 {
		case 0: // subscribed, paid, set to cancel, canceled
			history = []event{
				{stripeevents.CustomerSubscriptionCreated, ev(stripeevents.CustomerSubscriptionCreated, 0, incomplete)},
				{stripeevents.CustomerSubscriptionUpdated, ev(stripeevents.CustomerSubscriptionUpdated, 0, nil)},
				{stripeevents.InvoicePaid, ev(stripeevents.InvoicePaid, 10*time.Second, nil)},
				{stripeevents.CustomerSubscriptionUpdated, ev(stripeevents.CustomerSubscriptionUpdated, 20*time.Second, cancel)},
				{stripeevents.CustomerSubscriptionDeleted, ev(stripeevents.CustomerSubscriptionDeleted, 30*time.Second, cancel)},
			}
			expect[user] = want{"free", "canceled", true}
		case 1: // subscribed, paid, set to cancel at the period end
			history = []event{
				{stripeevents.CustomerSubscriptionCreated, ev(stripeevents.CustomerSubscriptionCreated, 0, incomplete)},
				{stripeevents.CustomerSubscriptionUpdated, ev(stripeevents.CustomerSubscriptionUpdated, 0, nil)},
				{stripeevents.InvoicePaid, ev(stripeevents.InvoicePaid, 10*time.Second, nil)},
				{stripeevents.CustomerSubscriptionUpdated, ev(stripeevents.CustomerSubscriptionUpdated, 20*time.Second, cancel)},
			}
			expect[user] = want{"pro", "active", true}
		default: // subscribed, paid, upgraded to Enterprise
			history = []event{
				{stripeevents.CustomerSubscriptionCreated, ev(stripeevents.CustomerSubscriptionCreated, 0, nil)},
				{stripeevents.InvoicePaid, ev(stripeevents.InvoicePaid, 10*time.Second, nil)},
				{stripeevents.CustomerSubscriptionUpdated, ev(stripeevents.CustomerSubscriptionUpdated, 20*time.Second,
					func(o *stripeevents.Options) { o.Tier = "enterprise" })},
			}
			expect[user] = want{"enterprise", "active", false}
		}
		for i, e := range history {
			payload := stripeevents.MustBuild(e.typ, e.o)
			copies := 2
			if (u+i)%3 == 0 {
				copies = 3
			}
			for c := 0; c < copies; c++ {
				deliveries = append(deliveries, delivery{user, e.o.EventID, payload})
			}
			events++
		}
	}
	rnd.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	// The senders.
	secret := h.Env.Getenv(manifest.EnvWebhookSecret)
	url := h.URL + webhookPath(t)
	var mu sync.Mutex
	outcomes := map[string][]string{} // event id → outcome of each delivery
	var failures []string
	retried := 0
	queue := make(chan delivery)
	var wg sync.WaitGroup
	t0 := time.Now()
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range queue {
				outcome, retries, err := deliver(url, secret, d.payload)
				mu.Lock()
				retried += retries
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s: %v", d.eventID, err))
				} else {
					outcomes[d.eventID] = append(outcomes[d.eventID], outcome)
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range deliveries {
		queue <- d
	}
	close(queue)
	wg.Wait()
	elapsed := time.Since(t0)
	t.Logf("%d deliveries of %d events for %d users by %d senders in %s (%.0f/s); %d retries after 409",
		len(deliveries), events, users, senders, elapsed.Round(time.Millisecond), float64(len(deliveries))/elapsed.Seconds(), retried)
	for i, f := range failures {
		if i == 10 {
			t.Errorf("… and %d more", len(failures)-10)
			break
		}
		t.Error(f)
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d deliveries failed", len(failures), len(deliveries))
	}

	// Each event was applied by exactly one of its deliveries; the others were duplicates.
	if len(outcomes) != events {
		t.Fatalf("outcomes for %d events, want %d", len(outcomes), events)
	}
	for id, got := range outcomes {
		applied := 0
		for _, o := range got {
			if o != "duplicate" {
				applied++
			}
		}
		if applied != 1 {
			t.Errorf("event %s: outcomes %v, want exactly one that is not a duplicate", id, got)
		}
	}

	// Every user ends in the state of their latest event, with exactly one payment.
	for user, w := range expect {
		tok := h.Token(t, user, user+"@example.com")
		sub := getJSON[subscriptionView](t, h, "/subscription", tok)
		if sub.Tier != w.tier || sub.Status != w.status || sub.CancelAtPeriodEnd != w.cancel {
			t.Errorf("%s: %+v, want tier %s status %s cancelAtPeriodEnd %v", user, sub, w.tier, w.status, w.cancel)
		}
		if pays := payments(t, h, tok); len(pays) != 1 || pays[0].AmountCents != 999 {
			t.Errorf("%s: payments %+v, want one of 999", user, pays)
		}
	}
}

// deliver posts a freshly signed payload until it is answered 200, retrying a 409 ("in progress":
// a duplicate of an event still being applied) with backoff. It returns the outcome reported in
// the final answer and the number of retries; any other status is an error.
func deliver(url, secret string, payload []byte) (string, int, error) {
	deadline := time.Now().Add(45 * time.Second)
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return "", attempt - 1, err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Stripe-Signature", stripeevents.SignatureHeader(payload, secret, time.Now()))
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		status, body, err := do(req)
		if err != nil {
			return "", attempt - 1, err
		}
		var res struct {
			Outcome string `json:"outcome"`
		}
		_ = json.Unmarshal(body, &res)
		switch {
		case status == http.StatusOK:
			return res.Outcome, attempt - 1, nil
		case status != http.StatusConflict:
			return "", attempt - 1, fmt.Errorf("answered %d %s", status, body)
		case time.Now().After(deadline):
			return "", attempt - 1, fmt.Errorf("still 409 after %d attempts", attempt)
		}
		backoff(attempt)
	}
}
