package manifest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	m "github.com/liberation/monetization/shared/manifest"
)

// decode unmarshals an events/ file. strict rejects fields the aws-lambda-go type lacks, which
// catches misnamed keys ("pathParams") that would otherwise arrive empty.
func decode(t *testing.T, name string, v any, strict bool) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		t.Fatalf("events/%s.json into %T: %v", name, v, err)
	}
	return raw
}

func TestEventsMatchManifest(t *testing.T) {
	for _, f := range m.Functions {
		t.Run(f.Name, func(t *testing.T) {
			switch f.Trigger.Kind {
			case m.HTTP:
				checkHTTPEvent(t, f)
			case m.FunctionURL:
				checkFunctionURLEvent(t, f)
			case m.Queue:
				checkSQSEvent(t, f)
			case m.Schedule:
				checkScheduleEvent(t, f)
			default:
				t.Fatalf("no event check for trigger %q", f.Trigger.Kind)
			}
		})
	}
}

func TestNoStrayEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/*.json (%v)", err)
	}
	for _, file := range files {
		if _, ok := m.ByName(strings.TrimSuffix(filepath.Base(file), ".json")); !ok {
			t.Errorf("%s belongs to no manifest function", file)
		}
	}
}

func checkHTTPEvent(t *testing.T, f m.Function) {
	var ev events.APIGatewayV2HTTPRequest
	decode(t, f.Name, &ev, true)
	rc := ev.RequestContext
	eq(t, "version", ev.Version, "2.0")
	eq(t, "routeKey", ev.RouteKey, f.RouteKey())
	eq(t, "requestContext.routeKey", rc.RouteKey, f.RouteKey())
	eq(t, "http.method", rc.HTTP.Method, f.Trigger.Method)
	eq(t, "http.path", rc.HTTP.Path, ev.RawPath)
	if rc.RequestID == "" || rc.HTTP.SourceIP == "" {
		t.Error("requestContext.requestId and http.sourceIp are required")
	}
	path := f.Trigger.Path
	for k, v := range ev.PathParameters {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	eq(t, "rawPath (route with pathParameters)", ev.RawPath, path)
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower case (payload 2.0 lower-cases them)", k)
		}
	}
	if hasBody := f.Trigger.Method == "POST" || f.Trigger.Method == "PUT" || f.Trigger.Method == "PATCH"; hasBody != (ev.Body != "") {
		t.Errorf("%s with body %q", f.Trigger.Method, ev.Body)
	} else if hasBody && !json.Valid([]byte(ev.Body)) {
		t.Errorf("body is not JSON: %s", ev.Body)
	}
	var claims map[string]string
	if rc.Authorizer != nil && rc.Authorizer.JWT != nil {
		claims = rc.Authorizer.JWT.Claims
	}
	if !f.NeedsJWT() {
		if claims != nil || ev.Headers["authorization"] != "" {
			t.Error("public route event carries a token or claims")
		}
		return
	}
	if claims["sub"] == "" || claims["email"] == "" || !strings.HasPrefix(ev.Headers["authorization"], "Bearer ") {
		t.Errorf("JWT route event needs a bearer token and sub/email claims, got %v", claims)
	}
	// aws-lambda-go types claims map[string]string: groups arrive as the string "[admin ...]".
	isAdmin := regexp.MustCompile(`^\[(.* )?admin( .*)?\]$`).MatchString(claims["cognito:groups"])
	eq(t, "admin group claim", isAdmin, f.Auth == m.Admin)
	// A group route's example caller belongs to its group (else the example is a 403).
	for _, g := range f.Groups {
		if !regexp.MustCompile(`^\[(.* )?` + regexp.QuoteMeta(g) + `( .*)?\]$`).MatchString(claims["cognito:groups"]) {
			t.Errorf("group route without the %s group claim: %q", g, claims["cognito:groups"])
		}
	}
}

func checkFunctionURLEvent(t *testing.T, f m.Function) {
	// Not strict: real function URL events carry routeKey/stage, which the Go type omits.
	var ev events.LambdaFunctionURLRequest
	decode(t, f.Name, &ev, false)
	eq(t, "version", ev.Version, "2.0")
	eq(t, "http.method", ev.RequestContext.HTTP.Method, f.Trigger.Method)
	if !regexp.MustCompile(`^t=\d+,v1=[0-9a-f]{64}$`).MatchString(ev.Headers["stripe-signature"]) {
		t.Errorf("stripe-signature header %q", ev.Headers["stripe-signature"])
	}
	var stripeEvent struct{ ID, Object, Type string }
	if err := json.Unmarshal([]byte(ev.Body), &stripeEvent); err != nil || stripeEvent.Object != "event" ||
		!strings.HasPrefix(stripeEvent.ID, "evt_") || stripeEvent.Type == "" {
		t.Errorf("body is not a Stripe event (%v): %.80s", err, ev.Body)
	}
	if ev.IsBase64Encoded {
		t.Error("keep the example body plain text so it can be read and edited")
	}
}

func checkSQSEvent(t *testing.T, f m.Function) {
	var ev events.SQSEvent
	decode(t, f.Name, &ev, true)
	q, _ := m.QueueByName(f.Trigger.Queue)
	if len(ev.Records) == 0 || len(ev.Records) > f.Trigger.BatchSize {
		t.Fatalf("%d records; want 1..%d", len(ev.Records), f.Trigger.BatchSize)
	}
	for _, r := range ev.Records {
		if r.MessageId == "" || r.ReceiptHandle == "" || r.EventSource != "aws:sqs" {
			t.Errorf("record %+v lacks messageId/receiptHandle/eventSource", r)
		}
		if !strings.Contains(r.EventSourceARN, q.LogicalID()) {
			t.Errorf("eventSourceARN %s is not the %s queue", r.EventSourceARN, q.Name)
		}
		sum := md5.Sum([]byte(r.Body))
		eq(t, "md5OfBody", r.Md5OfBody, hex.EncodeToString(sum[:]))
		var env struct {
			Type     string          `json:"type"`
			DedupeID string          `json:"dedupeId"`
			Payload  json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(r.Body), &env); err != nil || env.Type == "" || env.DedupeID == "" ||
			len(env.Payload) == 0 {
			t.Errorf("body is not our queue envelope (%v): %s", err, r.Body)
		}
	}
}

func checkScheduleEvent(t *testing.T, f m.Function) {
	var ev, want events.EventBridgeEvent
	decode(t, f.Name, &ev, true)
	// Scheduler fills the <aws.scheduler.*> placeholders at run time.
	input := strings.ReplaceAll(f.ScheduleInput(), "<aws.scheduler.scheduled-time>", "2026-01-01T00:00:00Z")
	if err := json.Unmarshal([]byte(input), &want); err != nil {
		t.Fatalf("ScheduleInput is not an EventBridge event: %v", err)
	}
	eq(t, "source", ev.Source, want.Source)
	eq(t, "detail-type", ev.DetailType, want.DetailType)
	var got, wantDetail bytes.Buffer
	_ = json.Compact(&got, ev.Detail)
	_ = json.Compact(&wantDetail, want.Detail)
	eq(t, "detail", got.String(), wantDetail.String())
	if ev.ID == "" || ev.Time.IsZero() || len(ev.Resources) != 1 {
		t.Errorf("id, time and the schedule ARN must be filled in: %+v", ev)
	}
}
