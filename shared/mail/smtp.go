package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"sort"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// SMTP sends through a plain SMTP server (mailpit locally). No auth, no TLS: loopback only.
type SMTP struct{ Addr string }

// Send implements Sender.
func (s SMTP) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	raw, err := BuildMIME(m, time.Now())
	if err != nil {
		return err
	}
	// The envelope sender is the bare address: From may carry a display name ("Acme" <r@x>), which
	// belongs in the header only.
	envelope := m.From
	if a, err := netmail.ParseAddress(m.From); err == nil {
		envelope = a.Address
	}
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(s.Addr, nil, envelope, []string{m.To}, raw) }()
	select {
	case err := <-done:
		if err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "send e-mail")
		}
		return nil
	case <-ctx.Done():
		return apperr.Wrap(ctx.Err(), apperr.Unavailable, "send e-mail")
	}
}

// BuildMIME renders a message as multipart/mixed { multipart/alternative { text, html }, attachments }.
func BuildMIME(m Message, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	mixed := multipart.NewWriter(&buf)
	hdr := map[string]string{
		"From":         m.From,
		"To":           m.To,
		"Subject":      mime.QEncoding.Encode("utf-8", m.Subject),
		"Date":         date.UTC().Format(time.RFC1123Z),
		"MIME-Version": "1.0",
		"Content-Type": "multipart/mixed; boundary=" + mixed.Boundary(),
	}
	for k, v := range m.Headers {
		hdr[k] = v
	}
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var head bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&head, "%s: %s\r\n", k, hdr[k])
	}
	head.WriteString("\r\n")

	altHeader := textproto.MIMEHeader{}
	var alt bytes.Buffer
	altW := multipart.NewWriter(&alt)
	altHeader.Set("Content-Type", "multipart/alternative; boundary="+altW.Boundary())
	for _, part := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", m.Text}, {"text/html; charset=utf-8", m.HTML}} {
		if part.body == "" {
			continue
		}
		w, err := altW.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"base64"}})
		if err != nil {
			return nil, err
		}
		writeBase64(w, []byte(part.body))
	}
	altW.Close()
	w, err := mixed.CreatePart(altHeader)
	if err != nil {
		return nil, err
	}
	w.Write(alt.Bytes())
	for _, a := range m.Attachments {
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})},
		})
		if err != nil {
			return nil, err
		}
		writeBase64(w, a.Data)
	}
	mixed.Close()
	return append(head.Bytes(), buf.Bytes()...), nil
}

func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}
