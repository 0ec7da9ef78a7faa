package services

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/motoserver"
)

func TestPortsFromEnv(t *testing.T) {
	env := map[string]string{"MOTO_PORT": "6001", "STRIPE_MOCK_PORT": "6002", "SMTP_PORT": "6003", "MAILPIT_PORT": "6004", "SES_PORT": "6005"}
	got := DevPorts.FromEnv(func(k string) string { return env[k] })
	if want := (Ports{Moto: 6001, StripeMock: 6002, SMTP: 6003, MailpitUI: 6004, SES: 6005}); got != want {
		t.Fatalf("all set: %+v, want %+v", got, want)
	}

	// Unset, empty, non-numeric, zero and negative values keep the defaults.
	bad := map[string]string{"STRIPE_MOCK_PORT": "", "SMTP_PORT": "smtp", "MAILPIT_PORT": "0", "MOTO_PORT": "-5"}
	if got := TestPorts.FromEnv(func(k string) string { return bad[k] }); got != TestPorts {
		t.Fatalf("invalid values: %+v, want the defaults %+v", got, TestPorts)
	}

	// Only what is set changes; the receiver is not modified.
	one := DevPorts.FromEnv(func(k string) string {
		if k == "SMTP_PORT" {
			return "2525"
		}
		return ""
	})
	if want := (Ports{Moto: 5055, StripeMock: 12111, SMTP: 2525, MailpitUI: 8025, SES: 8035}); one != want || DevPorts.SMTP != 1025 {
		t.Fatalf("one set: %+v (DevPorts %+v), want %+v", one, DevPorts, want)
	}
	if DevPorts == TestPorts {
		t.Fatal("dev and test ports must differ so both can run at once")
	}
}

func TestPortsURLsAndEnv(t *testing.T) {
	p := Ports{Moto: 1, StripeMock: 2, SMTP: 3, MailpitUI: 4, SES: 5}
	want := map[string]string{
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"STRIPE_API_BASE": "http://127.0.0.1:2", "MAIL_TRANSPORT": "ses", "AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:5",
		"SMTP_ADDR": "127.0.0.1:3", "MAILPIT_URL": "http://127.0.0.1:4", "LIBERATION_LOCAL": "1",
	}
	if got := p.Env(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Env() = %v, want %v", got, want)
	}
}

func TestChildEnvDropsPORT(t *testing.T) {
	got := childEnv([]string{"A=1", "PORT=3000", "PORTS=x", "B=PORT=2"})
	if want := []string{"A=1", "PORTS=x", "B=PORT=2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("childEnv = %v, want %v", got, want)
	}
}

func TestStartWithoutToolsSaysMakeTools(t *testing.T) {
	_, err := Start(context.Background(), t.TempDir(), t.TempDir(), freePorts(t))
	if err == nil || !strings.Contains(err.Error(), "not installed") || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("Start without .tools: %v, want a `make tools` hint", err)
	}
}

func TestStartServesAndStopFreesPorts(t *testing.T) {
	root := projectRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	var ports Ports
	var s *Stack
	var err error
	// A free port can be taken by another process before a service binds it (other test packages
	// start services too): retry such a start on new ports.
	for attempt := 1; ; attempt++ {
		ports = freePorts(t)
		if s, err = Start(ctx, root, t.TempDir(), ports); err == nil {
			break
		}
		lost := strings.Contains(err.Error(), "already in use") || strings.Contains(err.Error(), "exited before it was ready")
		if !lost || attempt == 3 {
			t.Fatalf("Start (attempt %d): %v", attempt, err)
		}
		t.Logf("lost a port race, retrying on new ports: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	t.Logf("services up in %s", time.Since(t0).Round(time.Millisecond))
	if s.Ports != ports {
		t.Fatalf("Stack.Ports = %+v, want %+v", s.Ports, ports)
	}
	// moto runs through the wrapper that serializes DynamoDB requests (docs/decisions/0020).
	if args := s.procs[0].cmd.Args; len(args) < 2 || args[1] != motoserver.Script(root) {
		t.Fatalf("moto started as %v, want %s", args, motoserver.Script(root))
	}

	// moto: create a DynamoDB table and list it back through the SDK.
	db := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ports.MotoURL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}),
	})
	table := "services-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("moto CreateTable: %v", err)
	}
	out, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || !contains(out.TableNames, table) {
		t.Fatalf("moto ListTables: %v %v, want %s", out, err, table)
	}

	// stripe-mock: an authenticated list call answers as Stripe does.
	if code := get(t, ports.StripeMockURL()+"/v1/customers", "Bearer sk_test_123"); code != http.StatusOK {
		t.Fatalf("stripe-mock GET /v1/customers: %d", code)
	}
	// mailpit: its API answers, and its SMTP port accepts connections.
	if code := get(t, ports.MailpitURL()+"/api/v1/info", ""); code != http.StatusOK {
		t.Fatalf("mailpit GET /api/v1/info: %d", code)
	}
	if c, err := net.DialTimeout("tcp", ports.SMTPAddr(), time.Second); err != nil {
		t.Fatalf("mailpit SMTP: %v", err)
	} else {
		c.Close()
	}

	// A second stack on the same ports is refused before it starts anything.
	if _, err := Start(ctx, root, t.TempDir(), ports); err == nil || !strings.Contains(err.Error(), "already in use") ||
		!strings.Contains(err.Error(), "moto") {
		t.Fatalf("second Start on busy ports: %v, want moto's port already in use", err)
	}

	s.Stop()
	stopped = true
	for _, addr := range addrs(ports) {
		waitFree(t, addr)
	}
	s.Stop() // a second Stop is harmless
}

// Each service's ports are checked, including mailpit's UI port (a plain listener that accepts but
// never answers would otherwise pass the readiness check or hang it).
func TestStartRefusesBusyPort(t *testing.T) {
	root := projectRoot(t)
	for _, tc := range []struct {
		name string
		busy func(*Ports) *int
	}{
		{"moto", func(p *Ports) *int { return &p.Moto }},
		{"stripe-mock", func(p *Ports) *int { return &p.StripeMock }},
		{"mailpit", func(p *Ports) *int { return &p.SMTP }},
		{"mailpit", func(p *Ports) *int { return &p.MailpitUI }},
	} {
		ports := freePorts(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		*tc.busy(&ports) = ln.Addr().(*net.TCPAddr).Port
		t0 := time.Now()
		s, err := Start(context.Background(), root, t.TempDir(), ports)
		ln.Close()
		if err == nil {
			s.Stop()
			t.Fatalf("Start with %s's port %d busy succeeded", tc.name, *tc.busy(&ports))
		}
		want := tc.name + ": port 127.0.0.1:" + strconv.Itoa(*tc.busy(&ports)) + " already in use"
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "_PORT") {
			t.Fatalf("busy %s port: %v, want %q and a *_PORT hint", tc.name, err, want)
		}
		if d := time.Since(t0); d > 15*time.Second {
			t.Fatalf("refusing a busy port took %s", d)
		}
		// Whatever had been started before the busy one was stopped again.
		for _, addr := range addrs(ports) {
			if addr != "127.0.0.1:"+strconv.Itoa(*tc.busy(&ports)) {
				waitFree(t, addr)
			}
		}
	}
}

func TestStartHonoursContext(t *testing.T) {
	ports := freePorts(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := Start(ctx, projectRoot(t), t.TempDir(), ports)
	if err == nil {
		s.Stop()
		t.Fatal("Start with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a cancelled context: %v, want context.Canceled", err)
	}
	for _, addr := range addrs(ports) {
		waitFree(t, addr)
	}
}

func TestWaitForReportsAnExitedService(t *testing.T) {
	exited := make(chan struct{})
	close(exited)
	err := waitFor(context.Background(), "svc", func() error { return errors.New("not yet") }, time.Minute, exited)
	if err == nil || !strings.Contains(err.Error(), "svc exited before it was ready") {
		t.Fatalf("waitFor on an exited service: %v", err)
	}
	err = waitFor(context.Background(), "svc", func() error { return errors.New("refused") }, 10*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "svc did not become ready") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("waitFor timing out: %v", err)
	}
}

// projectRoot is the repository root; the services' binaries must be installed in its .tools/.
func projectRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".tools/venv/bin/moto_server", ".tools/bin/stripe-mock", ".tools/bin/mailpit"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Fatalf("%s is missing: run `make tools` (%v)", p, err)
		}
	}
	return root
}

func freePorts(t *testing.T) Ports {
	t.Helper()
	// Hold all five listeners at once so the kernel hands out five different ports.
	var ls []net.Listener
	for i := 0; i < 5; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	port := func(i int) int { return ls[i].Addr().(*net.TCPAddr).Port }
	p := Ports{Moto: port(0), StripeMock: port(1), SMTP: port(2), MailpitUI: port(3), SES: port(4)}
	for _, l := range ls {
		l.Close()
	}
	return p
}

func addrs(p Ports) []string {
	return []string{"127.0.0.1:" + strconv.Itoa(p.Moto), "127.0.0.1:" + strconv.Itoa(p.StripeMock), p.SMTPAddr(),
		"127.0.0.1:" + strconv.Itoa(p.MailpitUI)}
}

// waitFree fails unless nothing accepts connections on addr within a few seconds.
func waitFree(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections after Stop", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url, auth string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
