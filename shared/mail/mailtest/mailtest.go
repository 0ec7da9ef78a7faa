// Package mailtest is an in-memory mail.Sender for unit tests: it checks each message as the real
// senders do (mail.Message.Validate), records it, and can be made to fail. Integration tests read
// mailpit instead.
package mailtest

import (
	"context"
	"sync"

	"github.com/liberation/monetization/shared/mail"
)

// Recorder records the messages sent. The zero value is ready to use.
type Recorder struct {
	mu   sync.Mutex
	sent []mail.Message
	// Fail, when set, is returned by every Send (nothing is recorded) until it is cleared.
	Fail error
}

var _ mail.Sender = (*Recorder)(nil)

// Send implements mail.Sender.
func (r *Recorder) Send(_ context.Context, m mail.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	r.sent = append(r.sent, m)
	return nil
}

// Sent returns every message recorded, in order.
func (r *Recorder) Sent() []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mail.Message(nil), r.sent...)
}

// To returns the messages recorded for addr, in order.
func (r *Recorder) To(addr string) []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mail.Message
	for _, m := range r.sent {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}
