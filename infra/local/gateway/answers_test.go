package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// errorShape decodes the system's error shape and fails unless body is exactly that, with a
// request id matching the apigw-requestid header.
func errorShape(t *testing.T, body, requestID string) httpapi.ErrorDetail {
	t.Helper()
	var eb httpapi.ErrorBody
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("not the error shape (%v): %s", err, body)
	}
	if requestID != "" && eb.Error.RequestID != requestID {
		t.Fatalf("requestId %q, header apigw-requestid %q", eb.Error.RequestID, requestID)
	}
	return eb.Error
}

// TestHeaderLimitAnswersInTheErrorShape: a request line and headers over HTTP API's 10240 bytes
// are a 431 in the error shape, whether the path, the query or a header is long.
func TestHeaderLimitAnswersInTheErrorShape(t *testing.T) {
	f := newFixture(t, nil)
	long := strings.Repeat("a", MaxRequestHeaderBytes)
	for name, tc := range map[string]struct {
		path string
		hdr  map[string]string
	}{
		"Path":   {"/payments/" + long, nil},
		"Query":  {"/tiers?q=" + long, nil},
		"Header": {"/tiers", map[string]string{"X-Long": long}},
		"Token":  {"/payments", map[string]string{"Authorization": "Bearer " + long}},
	} {
		t.Run(name, func(t *testing.T) {
			res, body := f.do(t, "GET", tc.path, tc.hdr, nil)
			if res.StatusCode != 431 || res.Header.Get("content-type") != "application/json" {
				t.Fatalf("%d %s %s", res.StatusCode, res.Header.Get("content-type"), body)
			}
			e := errorShape(t, body, res.Header.Get("apigw-requestid"))
			if e.Code != "headers_too_large" || !strings.HasSuffix(e.Message, "at most 10240 are accepted") {
				t.Fatalf("%+v", e)
			}
		})
	}
	if n := f.calls.Load(); n != 0 {
		t.Fatalf("a function ran %d times for oversized requests", n)
	}
	// Just under the limit still reaches the function.
	res, _ := f.do(t, "GET", "/tiers?q="+strings.Repeat("a", MaxRequestHeaderBytes-600), nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("a request under the limit: %d", res.StatusCode)
	}
}

// TestAWSAnswersKeepAPIGatewaysShape: what API Gateway itself answers in AWS stays {"message"}.
func TestAWSAnswersKeepAPIGatewaysShape(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/nope", `{"message":"Not Found"}`, 404},
		{"DELETE", "/tiers", `{"message":"Not Found"}`, 404},
		{"GET", "/payments", `{"message":"Unauthorized"}`, 401},
	} {
		res, body := f.do(t, tc.method, tc.path, nil, nil)
		if res.StatusCode != tc.status || body != tc.body || res.Header.Get("content-type") != "application/json" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, body)
		}
	}
}

func TestNotImplementedAnswersInTheErrorShape(t *testing.T) {
	fn := http2("GET", "/later", manifest.Public)
	f := newFixture(t, nil, fn)
	res, body := f.do(t, "GET", "/later", nil, nil)
	if res.StatusCode != 501 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	e := errorShape(t, body, res.Header.Get("apigw-requestid"))
	if e.Code != "not_implemented" || e.Message != "function get-later is not implemented yet (no registry entry)" {
		t.Fatalf("%+v", e)
	}
}

// TestJobsEndpoint: the report a job returns is passed through; every refusal is the error shape.
func TestJobsEndpoint(t *testing.T) {
	type report struct {
		Reconciled      int  `json:"reconciled"`
		Expired         int  `json:"expired"`
		SnapshotWritten bool `json:"snapshotWritten"`
	}
	cron := func(name string) manifest.Function {
		return manifest.Function{Name: name, Auth: manifest.Internal,
			Trigger: manifest.Trigger{Kind: manifest.Schedule, Expression: "cron(15 0 * * ? *)"}}
	}
	f := newFixture(t, map[string]any{
		"reports": func(context.Context, events.EventBridgeEvent) (report, error) {
			return report{Reconciled: 2, Expired: 1, SnapshotWritten: true}, nil
		},
		"silent": func(context.Context, events.EventBridgeEvent) error { return nil },
		"fails":  func(context.Context, events.EventBridgeEvent) (any, error) { return nil, errors.New("stripe down") },
	}, cron("reports"), cron("silent"), cron("fails"))

	res, body := f.do(t, "POST", "/_local/jobs/reports", nil, nil)
	var jr JobResult
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &jr) != nil || jr.Function != "reports" ||
		string(jr.Result) != `{"reconciled":2,"expired":1,"snapshotWritten":true}` {
		t.Fatalf("report: %d %s", res.StatusCode, body)
	}
	res, body = f.do(t, "POST", "/_local/jobs/silent", nil, nil)
	if res.StatusCode != 200 || strings.Contains(body, "result") {
		t.Fatalf("a job without a report: %d %s", res.StatusCode, body)
	}
	res, body = f.do(t, "GET", "/_local/jobs", nil, nil)
	if res.StatusCode != 200 || strings.TrimSpace(body) != `{"jobs":["fails","reports","silent"]}` {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}

	for _, tc := range []struct {
		method, path string
		status       int
		code, msg    string
	}{
		{"POST", "/_local/jobs/nope", 404, "not_found", `no schedule function named "nope"; the jobs are: fails, reports, silent`},
		{"GET", "/_local/jobs/reports", 405, "method_not_allowed", "use POST to run reports"},
		{"POST", "/_local/jobs", 405, "method_not_allowed", "use GET to list the jobs"},
		{"POST", "/_local/jobs/fails", 500, "internal", "fails failed: stripe down"},
	} {
		res, body := f.do(t, tc.method, tc.path, nil, nil)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, body)
			continue
		}
		if e := errorShape(t, body, res.Header.Get("apigw-requestid")); string(e.Code) != tc.code || e.Message != tc.msg {
			t.Errorf("%s %s: %+v", tc.method, tc.path, e)
		}
	}
}
