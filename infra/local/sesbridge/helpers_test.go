package sesbridge

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// NewClient returns a real SES v2 client aimed at a bridge: static credentials (so requests are
// SigV4-signed as in AWS) and the given number of attempts with no backoff wait, so retry tests
// stay fast while the SDK's own retry decisions are exercised.
func NewClient(url string, attempts int) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       "eu-west-3",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDSESBRIDGE", SecretAccessKey: "secret", Source: "test"}, nil
		}),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
}

// smtpDelivery is one message a fakeSMTP accepted.
type smtpDelivery struct {
	From string
	To   []string
	Data string
}

// fakeSMTP is a minimal SMTP responder (enough for net/smtp.SendMail: EHLO, MAIL, RCPT, DATA, QUIT;
// no STARTTLS, no AUTH). failData, when set, answers DATA with a 451 so a relay failure can be
// provoked mid-transaction.
type fakeSMTP struct {
	Addr     string
	failData bool
	mu       sync.Mutex
	got      []smtpDelivery
}

func startFakeSMTP(t *testing.T, failData bool) *fakeSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{Addr: l.Addr().String(), failData: failData}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 fake ESMTP")
	var cur smtpDelivery
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		upper := strings.ToUpper(cmd)
		switch {
		case strings.HasPrefix(upper, "EHLO"), strings.HasPrefix(upper, "HELO"):
			say("250 fake")
		case strings.HasPrefix(upper, "MAIL FROM:"):
			cur = smtpDelivery{From: strings.Trim(cmd[len("MAIL FROM:"):], "<> ")}
			say("250 OK")
		case strings.HasPrefix(upper, "RCPT TO:"):
			cur.To = append(cur.To, strings.Trim(cmd[len("RCPT TO:"):], "<> "))
			say("250 OK")
		case upper == "DATA":
			if f.failData {
				say("451 try again later")
				continue
			}
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			cur.Data = data.String()
			f.mu.Lock()
			f.got = append(f.got, cur)
			f.mu.Unlock()
			say("250 OK queued")
		case upper == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

func (f *fakeSMTP) deliveries() []smtpDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]smtpDelivery(nil), f.got...)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
