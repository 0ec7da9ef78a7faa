package registry

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Every manifest function builds from its registry entry with exactly the capabilities its manifest
// entry declares — as its generated main does in Lambda — and building makes no network call (the
// environment points nowhere reachable).
func TestEveryFunctionBuildsWithItsDeclaredCapabilitiesOnly(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "TABLE_NAME": "t", "BUCKET_NAME": "b",
		"CURSOR_SECRET_PARAM": "/p/cursor", "STRIPE_SECRET_KEY_PARAM": "/p/stripe", "STRIPE_WEBHOOK_SECRET_PARAM": "/p/wh",
		"MAIL_TRANSPORT": "ses", "QUEUE_URL_RECEIPTS": "http://127.0.0.1:1/q", "APP_URL": "https://app.example.com",
	}
	base, err := platform.New(context.Background(), manifest.Function{}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range manifest.Functions {
		if _, ok := Entries[fn.Name]; !ok {
			t.Errorf("%s: no registry entry (run make generate)", fn.Name)
			continue
		}
		h, err := Handler(base, fn)
		if err != nil || h == nil {
			t.Errorf("%s: %v", fn.Name, err)
		}
	}
	for name := range Entries {
		if _, ok := manifest.ByName(name); !ok {
			t.Errorf("registry has %s, the manifest does not", name)
		}
	}
}

// A function that uses a capability its manifest entry does not declare fails when it is built,
// with a message naming the field to declare (not at its first request).
func TestMissingCapabilityFailsAtBuild(t *testing.T) {
	base, err := platform.New(context.Background(), manifest.Function{}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	fn := manifest.MustByName("create-refund") // sends refund notices to the receipts queue
	rt := base.For(fn)
	if _, err := Entries[fn.Name].Build(rt); err == nil || !strings.Contains(err.Error(), "declare Sends") {
		t.Fatalf("building without the queue capability: %v", err)
	}
}

// AWS service packages a function may link, by the manifest field that grants them. Anything else
// (SSM, STS, SSO, …) costs every cold start its package initialisation for nothing.
var servicePackages = map[string]func(manifest.Function) bool{
	"github.com/aws/aws-sdk-go-v2/service/dynamodb": func(f manifest.Function) bool { return len(f.Table) > 0 },
	"github.com/aws/aws-sdk-go-v2/service/sqs":      func(f manifest.Function) bool { return len(f.Sends) > 0 || f.InspectQueues },
	"github.com/aws/aws-sdk-go-v2/service/s3":       func(f manifest.Function) bool { return len(f.Bucket) > 0 },
	"github.com/aws/aws-sdk-go-v2/service/sesv2":    func(f manifest.Function) bool { return f.Email },
}

// Each function's binary links exactly the AWS clients its manifest entry needs.
func TestFunctionsLinkOnlyTheirClients(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if eq .Name "main"}}{{.ImportPath}}: {{join .Deps " "}}{{end}}`,
		"../../functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		set := map[string]bool{}
		for _, d := range strings.Fields(list) {
			set[d] = true
		}
		deps[pkg[strings.LastIndex(pkg, "/")+1:]] = set
	}
	for _, fn := range manifest.Functions {
		d, ok := deps[fn.Name]
		if !ok {
			t.Errorf("%s: no main package found", fn.Name)
			continue
		}
		for pkg, want := range servicePackages {
			if d[pkg] != want(fn) {
				t.Errorf("%s: links %s = %v, manifest says %v", fn.Name, pkg, d[pkg], want(fn))
			}
		}
		for p := range d {
			if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/") && !strings.Contains(p, "/internal/") {
				svc := strings.SplitN(strings.TrimPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"), "/", 2)[0]
				if svc == "dynamodbstreams" && len(fn.Table) > 0 {
					continue // the DynamoDB attribute-value marshaller links the streams types
				}
				if _, known := servicePackages["github.com/aws/aws-sdk-go-v2/service/"+svc]; !known {
					t.Errorf("%s: links %s, which no manifest capability needs", fn.Name, p)
				}
			}
		}
	}
}
