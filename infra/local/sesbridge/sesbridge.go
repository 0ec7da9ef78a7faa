// Package sesbridge is a local stand-in for Amazon SES v2's SendEmail: an http.Handler that accepts
// the request exactly as aws-sdk-go-v2/service/sesv2 sends it (REST-JSON, POST
// /v2/email/outbound-emails) and relays the message over SMTP to mailpit through shared/mail (its MIME
// builder and mail.SMTP). With it the local stack sends mail the way AWS does (MAIL_TRANSPORT=ses,
// AWS_ENDPOINT_URL_SESV2=<bridge URL>), so the SDK's request shape, the sending identity check, the
// error shapes the SDK parses and the local IAM check on ses:SendEmail are all exercised before a
// deploy.
//
// Only Simple content is supported; other operations answer 404 UnknownOperationException.
package sesbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	netmail "net/mail"
	"path"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/mail"
)

// SendEmailPath is the REST path of SES v2 SendEmail.
const SendEmailPath = "/v2/email/outbound-emails"

// maxRequestBytes bounds a request body: SES accepts messages up to 40 MB, which base64 in JSON
// inflates by a third.
const maxRequestBytes = 56 << 20

// Config configures a bridge.
type Config struct {
	// SMTPAddr is where messages are relayed (mailpit's SMTP port), host:port.
	SMTPAddr string
	// Identities are the verified SES identities: e-mail addresses and domains. A From whose address
	// or whose domain is listed may send; any other is refused with MessageRejected, as SES does.
	Identities []string
}

// Bridge is the http.Handler. Build it with New.
type Bridge struct {
	cfg        Config
	addresses  map[string]bool // verified addresses, lower case
	domains    map[string]bool // verified domains, lower case
	newMessage func() string   // SES-like message ids; replaceable in tests
}

// New returns a bridge relaying to cfg.SMTPAddr.
func New(cfg Config) *Bridge {
	b := &Bridge{cfg: cfg, addresses: map[string]bool{}, domains: map[string]bool{}, newMessage: newMessageID}
	for _, id := range cfg.Identities {
		id = strings.ToLower(strings.TrimSpace(id))
		if strings.Contains(id, "@") {
			b.addresses[id] = true
		} else if id != "" {
			b.domains[id] = true
		}
	}
	return b
}

// Start serves a bridge on a free loopback port. stop shuts it down (waiting briefly for requests
// in flight).
func Start(cfg Config) (url string, stop func(), err error) {
	if cfg.SMTPAddr == "" {
		return "", nil, errors.New("sesbridge: SMTPAddr is required")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("sesbridge: listen: %w", err)
	}
	srv := &http.Server{Handler: New(cfg), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	}
	return "http://" + l.Addr().String(), stop, nil
}

// The SendEmail request as the SDK serialises it (see sesv2's request_snapshot/SendEmail.request.snap).
// Members the bridge does not act on (ConfigurationSetName, EmailTags, ReplyToAddresses, …) are
// accepted and ignored, as they change nothing in the message mailpit would show.
type sendEmailRequest struct {
	FromEmailAddress *string `json:"FromEmailAddress"`
	Destination      *struct {
		ToAddresses  []string `json:"ToAddresses"`
		CcAddresses  []string `json:"CcAddresses"`
		BccAddresses []string `json:"BccAddresses"`
	} `json:"Destination"`
	Content *struct {
		Simple   *simpleMessage  `json:"Simple"`
		Raw      json.RawMessage `json:"Raw"`
		Template json.RawMessage `json:"Template"`
	} `json:"Content"`
}

type simpleMessage struct {
	Subject *content `json:"Subject"`
	Body    *struct {
		Text *content `json:"Text"`
		Html *content `json:"Html"`
	} `json:"Body"`
	Attachments []struct {
		FileName    *string `json:"FileName"`
		ContentType *string `json:"ContentType"`
		RawContent  []byte  `json:"RawContent"` // a blob: base64 in JSON, decoded by encoding/json
	} `json:"Attachments"`
	Headers []struct {
		Name  *string `json:"Name"`
		Value *string `json:"Value"`
	} `json:"Headers"`
}

type content struct {
	Data    *string `json:"Data"`
	Charset *string `json:"Charset"`
}

// apiError is an SES error as the SDK's restJson1 deserializer reads it: the code from
// X-Amzn-ErrorType (or the body's __type), the message from the body's "message".
type apiError struct {
	status int
	code   string
	msg    string
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "BadRequestException", fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != SendEmailPath {
		writeError(w, &apiError{http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("sesbridge serves only SendEmail (POST %s), not %s %s", SendEmailPath, r.Method, r.URL.Path)})
		return
	}
	var req sendEmailRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, badRequest("cannot read request body: %v", err))
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, badRequest("malformed request: %v", err))
		return
	}
	msgs, apiErr := b.messages(&req, region(r))
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	id := b.newMessage()
	for _, m := range msgs {
		// SES sets its own Message-ID (overriding any given); the bridge uses the id it returns, so a
		// test can find the message in mailpit from SendEmail's answer.
		m.Headers["Message-ID"] = "<" + id + "@email.amazonses.com>"
		if err := (mail.SMTP{Addr: b.cfg.SMTPAddr}).Send(r.Context(), m); err != nil {
			// 500 as SES's InternalFailure: the SDK retries it and sesmail maps it to Unavailable. The
			// SMTP error is not echoed: it can carry recipient addresses, and callers log this text.
			writeError(w, &apiError{http.StatusInternalServerError, "InternalFailure",
				"The request processing has failed because of an unknown error, exception or failure."})
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	json.NewEncoder(w).Encode(map[string]string{"MessageId": id})
}

// messages checks the request as SES does and turns it into one mail.Message per recipient.
func (b *Bridge) messages(req *sendEmailRequest, region string) ([]mail.Message, *apiError) {
	if req.Content == nil {
		return nil, badRequest("Content is required")
	}
	if req.Content.Simple == nil {
		if req.Content.Raw != nil || req.Content.Template != nil {
			// Valid for SES, but this bridge only relays what shared/mail/sesmail sends.
			return nil, badRequest("sesbridge supports only Simple content (Raw and Template are not relayed)")
		}
		return nil, badRequest("Content must contain Simple, Raw or Template")
	}
	if req.FromEmailAddress == nil || strings.TrimSpace(*req.FromEmailAddress) == "" {
		return nil, badRequest("Missing required parameter FromEmailAddress")
	}
	from := *req.FromEmailAddress
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, badRequest("Invalid FromEmailAddress: %v", err)
	}
	if !isASCII(from) {
		// SES requires 7-bit addresses; a non-ASCII display name must be RFC 2047 encoded.
		return nil, badRequest("FromEmailAddress must be 7-bit ASCII; encode a non-ASCII display name (RFC 2047)")
	}
	if !b.verified(addr.Address) {
		return nil, &apiError{http.StatusBadRequest, "MessageRejected", fmt.Sprintf(
			"Email address is not verified. The following identities failed the check in region %s: %s", region, addr.Address)}
	}

	var rcpts []string
	if d := req.Destination; d != nil {
		rcpts = append(append(append(rcpts, d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	}
	if len(rcpts) == 0 {
		return nil, badRequest("Destination must contain at least one recipient")
	}
	if len(rcpts) > 50 {
		return nil, badRequest("Recipient count exceeds 50")
	}

	s := req.Content.Simple
	if s.Subject == nil || s.Subject.Data == nil {
		return nil, badRequest("Missing required parameter Content.Simple.Subject.Data")
	}
	if s.Body == nil {
		return nil, badRequest("Missing required parameter Content.Simple.Body")
	}
	base := mail.Message{From: from, Subject: *s.Subject.Data}
	if s.Body.Text != nil {
		if s.Body.Text.Data == nil {
			return nil, badRequest("Missing required parameter Content.Simple.Body.Text.Data")
		}
		base.Text = *s.Body.Text.Data
	}
	if s.Body.Html != nil {
		if s.Body.Html.Data == nil {
			return nil, badRequest("Missing required parameter Content.Simple.Body.Html.Data")
		}
		base.HTML = *s.Body.Html.Data
	}
	for i, a := range s.Attachments {
		if a.FileName == nil || *a.FileName == "" || a.RawContent == nil {
			return nil, badRequest("Attachments[%d]: FileName and RawContent are required", i)
		}
		ctype := ""
		if a.ContentType != nil {
			ctype = *a.ContentType
		}
		if ctype == "" {
			// SES infers the type from the file name when none is given.
			if ctype = mime.TypeByExtension(path.Ext(*a.FileName)); ctype == "" {
				ctype = "application/octet-stream"
			}
		}
		base.Attachments = append(base.Attachments, mail.Attachment{Filename: *a.FileName, ContentType: ctype, Data: a.RawContent})
	}
	headers := map[string]string{}
	seen := map[string]bool{}
	for i, h := range s.Headers {
		if h.Name == nil || h.Value == nil {
			return nil, badRequest("Headers[%d]: Name and Value are required", i)
		}
		if err := checkHeader(*h.Name, *h.Value); err != nil {
			return nil, badRequest("Headers[%d]: %s", i, err)
		}
		key := strings.ToLower(*h.Name)
		if seen[key] {
			// mail.Message carries headers in a map: a repeated one would be lost silently.
			return nil, badRequest("Headers[%d]: %s is given more than once", i, *h.Name)
		}
		seen[key] = true
		switch key {
		case "date", "message-id":
			// SES replaces both with its own values.
			continue
		case "from", "to", "cc", "bcc", "subject", "mime-version", "content-type", "content-transfer-encoding":
			// The message already has these; SES allows each once in a message.
			return nil, badRequest("Headers[%d]: %s is set by SES from the request and cannot be given again", i, *h.Name)
		}
		headers[*h.Name] = *h.Value
	}

	// mail.SMTP delivers to one recipient per message: each recipient gets a copy addressed to them
	// (counting messages per recipient in mailpit stays right; Cc/Bcc are not shown as such).
	out := make([]mail.Message, 0, len(rcpts))
	for _, to := range rcpts {
		a, err := netmail.ParseAddress(to)
		if err != nil || !isASCII(to) {
			return nil, badRequest("Invalid recipient address %q", to)
		}
		m := base
		m.To = a.Address
		m.Headers = make(map[string]string, len(headers)+1)
		for k, v := range headers {
			m.Headers[k] = v
		}
		if err := m.Validate(); err != nil {
			return nil, badRequest("%v", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// verified reports whether addr or its domain is a verified identity (case-insensitively).
// Sub-domains of a verified domain are not accepted: narrower than SES, on purpose (identities as
// narrow as the config allows).
func (b *Bridge) verified(addr string) bool {
	addr = strings.ToLower(addr)
	if b.addresses[addr] {
		return true
	}
	at := strings.LastIndexByte(addr, '@')
	return at >= 0 && b.domains[addr[at+1:]]
}

// checkHeader applies SES's MessageHeader constraints (sesv2 types.MessageHeader).
func checkHeader(name, value string) error {
	if name == "" || len(name) > 126 {
		return errors.New("header name must have 1 to 126 characters")
	}
	for _, c := range []byte(name) {
		if c < 33 || c > 126 || c == ':' {
			return fmt.Errorf("header name %q must be printable ASCII without a colon", name)
		}
	}
	if len(value) > 995 || len(name)+len(value) > 996 {
		return fmt.Errorf("header %s is too long", name)
	}
	for _, c := range []byte(value) {
		if c < 32 || c > 126 {
			return fmt.Errorf("header %s value must be printable ASCII", name)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// region is the request's signing region (SigV4 credential scope), upper-cased as SES prints it.
func region(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		parts := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
		if len(parts) == 5 && parts[2] != "" {
			return strings.ToUpper(parts[2])
		}
	}
	return "US-EAST-1"
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

// newMessageID mimics the shape of SES's ids: a hex millisecond clock, a UUID-shaped random part, -000000.
func newMessageID() string {
	r := randHex(16)
	return fmt.Sprintf("%016x-%s-%s-%s-%s-%s-000000", time.Now().UnixMilli(), r[:8], r[8:12], r[12:16], r[16:20], r[20:])
}

func newRequestID() string {
	r := randHex(16)
	return r[:8] + "-" + r[8:12] + "-" + r[12:16] + "-" + r[16:20] + "-" + r[20:]
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
