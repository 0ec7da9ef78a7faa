//go:build integration

package e2e

// Logs without personal data (issue 16, docs/decisions/0079). A mail server that refuses a
// recipient quotes the address in its answer, and the function logs the error: the line must reach
// the log with the address redacted. TestMain's log scan fails the run if it does not.

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/manifest"
)

// rejectingSMTP answers every RCPT TO as Postfix does for an unknown user, quoting the address.
type rejectingSMTP struct {
	mu       sync.Mutex
	rejected []string
}

func startRejectingSMTP(t *testing.T) (*rejectingSMTP, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &rejectingSMTP{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, ln.Addr().String()
}

func (s *rejectingSMTP) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 mx.example ESMTP Postfix")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 mx.example")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			addr := strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<>")
			s.mu.Lock()
			s.rejected = append(s.rejected, addr)
			s.mu.Unlock()
			say("550 5.1.1 <" + addr + ">: Recipient address rejected: User unknown in local recipient table")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 2.0.0 Bye")
			return
		default: // MAIL FROM, RSET, NOOP
			say("250 2.0.0 Ok")
		}
	}
}

func (s *rejectingSMTP) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejected...)
}

// A support reply whose e-mail the mail server refuses: the reply is stored (201), the refusal is
// logged ("reply e-mail not sent", its error quoting the address) and the address never reaches
// the log — TestMain's scan proves the last part over the run's real log lines.
func TestRefusedRecipientIsLoggedWithoutTheAddress(t *testing.T) {
	smtp, addr := startRejectingSMTP(t)
	// Straight to an SMTP server that names the refused recipient in its error (the SES bridge
	// answers without it): the scrubber must take the address out of the logged error.
	h := Start(t, WithSetup(func(_ testing.TB, env *localtest.Env) {
		env.Vars[manifest.EnvMailTransport], env.Vars[manifest.EnvSMTPAddr] = "smtp", addr
	}))
	o := newOrg(t, h, 5, "block", "restrict", time.Now().UTC())
	id := "learner-" + suffix()
	email := id + "@acme.example"
	learner := h.Token(t, id, email)
	h.Call(t, http.MethodPost, "/licenses/join", learner, map[string]string{"code": o.invite(t, h, 1)}, http.StatusCreated, nil)
	var tk ticketView
	h.Call(t, http.MethodPost, "/support/tickets", learner, map[string]string{"subject": "Certificate missing",
		"body": "My certificate is missing.", "priority": "low"}, http.StatusCreated, &tk)
	agent := h.Token(t, "agent-"+suffix(), "agent-"+suffix()+"@support.liberation.example", manifest.GroupSupport)
	h.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "Fixed now."}, http.StatusCreated, nil)
	refused := false
	for _, a := range smtp.Rejected() {
		refused = refused || a == email
	}
	if !refused {
		t.Fatalf("the mail server was not asked for %s (it refused %v): the failing path did not run", email, smtp.Rejected())
	}
}
