package stripestate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// event is one webhook event to send: its type, data.object and data.previous_attributes.
type event struct {
	typ      string
	object   map[string]any
	previous map[string]any
	created  int64
}

// Delivery is what happened to one event sent to the webhook URL.
type Delivery struct {
	EventID, Type string
	Object        string // id of data.object
	Status        int    // the webhook's last HTTP status (0: no answer)
	Err           string // the last transport error, if any
	Attempts      int
}

// attempts and backoff of a delivery: Stripe retries for days; locally a few quick tries tell a
// webhook that is down from one that refuses the event.
const (
	maxAttempts = 3
	backoff     = 200 * time.Millisecond
)

// deliverer sends events one at a time, in the order they were queued, as Stripe does for one
// endpoint in the normal case (the webhook must still cope with any order; tests can send out of
// order through stripeevents).
type deliverer struct {
	cfg     Config
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []event
	done    []Delivery
	pending int
	closed  bool
	stopped chan struct{}
}

func newDeliverer(cfg Config) *deliverer {
	d := &deliverer{cfg: cfg, stopped: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	go d.run()
	return d
}

func (d *deliverer) enqueue(evs ...event) {
	if d.cfg.WebhookURL == "" || len(evs) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.queue = append(d.queue, evs...)
	d.pending += len(evs)
	d.cond.Broadcast()
}

func (d *deliverer) run() {
	defer close(d.stopped)
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if len(d.queue) == 0 {
			d.mu.Unlock()
			return
		}
		ev := d.queue[0]
		d.queue = d.queue[1:]
		d.mu.Unlock()
		res := d.send(ev)
		d.mu.Lock()
		d.done = append(d.done, res)
		d.pending--
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

// send builds, signs and posts one event, retrying a failure a few times.
func (d *deliverer) send(ev event) Delivery {
	id, _ := ev.object["id"].(string)
	payload, err := stripeevents.Build(ev.typ, stripeevents.Options{Object: ev.object, PreviousAttributes: ev.previous,
		Created: time.Unix(ev.created, 0)})
	res := Delivery{Type: ev.typ, Object: id}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.EventID = eventID(payload)
	for res.Attempts < maxAttempts {
		if res.Attempts > 0 {
			time.Sleep(backoff * time.Duration(res.Attempts))
		}
		res.Attempts++
		req, err := http.NewRequest(http.MethodPost, d.cfg.WebhookURL, bytes.NewReader(payload))
		if err != nil {
			res.Err = err.Error()
			return res
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		// Signed at the real time whatever Config.Clock says: ConstructEvent checks the signature's
		// age against time.Now (5 minutes), not against the event's created.
		req.Header.Set("Stripe-Signature", stripeevents.SignatureHeader(payload, d.cfg.WebhookSecret, time.Now()))
		resp, err := d.cfg.HTTPClient.Do(req)
		if err != nil {
			res.Status, res.Err = 0, err.Error()
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		res.Status, res.Err = resp.StatusCode, ""
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return res
		}
		res.Err = fmt.Sprintf("webhook answered %d", resp.StatusCode)
	}
	return res
}

// eventID reads the id Build gave the event.
func eventID(payload []byte) string {
	var head struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(payload, &head)
	return head.ID
}

// flush waits until every event queued so far has been handled.
func (d *deliverer) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.pending > 0 {
		d.cond.Wait()
	}
}

func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
	<-d.stopped
}

func (d *deliverer) list() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.done...)
}
