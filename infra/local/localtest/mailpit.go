package localtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Mailpit reads messages from mailpit's HTTP API, as a person would see them in its inbox.
type Mailpit struct{ URL string }

// MessageSummary is one message in a search result.
type MessageSummary struct {
	ID          string    `json:"ID"`
	MessageID   string    `json:"MessageID"`
	Subject     string    `json:"Subject"`
	Created     time.Time `json:"Created"`
	Attachments int       `json:"Attachments"`
	To          []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// Message is a full message.
type Message struct {
	ID   string `json:"ID"`
	From struct {
		Name    string `json:"Name"`
		Address string `json:"Address"`
	} `json:"From"`
	Subject     string `json:"Subject"`
	Text        string `json:"Text"`
	HTML        string `json:"HTML"`
	Attachments []struct {
		PartID      string `json:"PartID"`
		FileName    string `json:"FileName"`
		ContentType string `json:"ContentType"`
		Size        int    `json:"Size"`
	} `json:"Attachments"`
}

// Search returns messages matching a mailpit search query (e.g. "to:alice@example.com").
func (m *Mailpit) Search(t testing.TB, query string) []MessageSummary {
	t.Helper()
	var out struct {
		Messages []MessageSummary `json:"messages"`
	}
	m.get(t, "/api/v1/search?limit=200&query="+url.QueryEscape(query), &out)
	return out.Messages
}

// WaitFor polls until at least n messages match query (or fails after 10 s), then returns them.
func (m *Mailpit) WaitFor(t testing.TB, query string, n int) []MessageSummary {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := m.Search(t, query)
		if len(msgs) >= n || time.Now().After(deadline) {
			if len(msgs) < n {
				t.Fatalf("mailpit: want ≥%d messages for %q, have %d", n, query, len(msgs))
			}
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Get returns one full message.
func (m *Mailpit) Get(t testing.TB, id string) Message {
	t.Helper()
	var msg Message
	m.get(t, "/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

// Attachment downloads one attachment part.
func (m *Mailpit) Attachment(t testing.TB, id, partID string) []byte {
	t.Helper()
	res, err := http.Get(m.URL + "/api/v1/message/" + url.PathEscape(id) + "/part/" + url.PathEscape(partID))
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

func (m *Mailpit) get(t testing.TB, path string, out any) {
	t.Helper()
	if m.URL == "" {
		t.Fatal("mailpit: MAILPIT_URL is not set")
	}
	res, err := http.Get(m.URL + path)
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("mailpit %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("mailpit decode: %v", fmt.Errorf("%s: %w", path, err))
	}
}
