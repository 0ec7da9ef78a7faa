package mail

import (
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestBuildMIMEParses(t *testing.T) {
	m := Message{From: "a@b.c", To: "d@e.f", Subject: "Reçu 9,99 €", Text: "hello", HTML: "<p>hello</p>",
		Attachments: []Attachment{{Filename: "receipt.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.3 test")}},
		Headers:     map[string]string{"X-Liberation-Dedupe": "receipt#p1"}}
	raw, err := BuildMIME(m, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subj != m.Subject || msg.Header.Get("X-Liberation-Dedupe") != "receipt#p1" {
		t.Fatalf("headers: %q %v", subj, msg.Header)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p.Header.Get("Content-Type"))
		io.Copy(io.Discard, p)
	}
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "multipart/alternative") || parts[1] != "application/pdf" {
		t.Fatalf("parts %v", parts)
	}
}

func TestValidateRefusesHeaderInjection(t *testing.T) {
	for _, m := range []Message{
		{From: "a@b.c", To: "d@e.f\r\nBcc: x@y.z", Subject: "s", Text: "t"},
		{From: "a@b.c", To: "d@e.f", Subject: "s\nBcc: x", Text: "t"},
		{From: "a@b.c", To: "", Subject: "s", Text: "t"},
		{From: "a@b.c", To: "d@e.f", Subject: "s"},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("accepted %+v", m)
		}
	}
}
