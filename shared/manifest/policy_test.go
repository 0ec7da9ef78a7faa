package manifest

import (
	"reflect"
	"strings"
	"testing"
)

func TestPolicyRendersTheManifestFields(t *testing.T) {
	f := Function{Name: "f", Table: []string{GetItem, QueryIndex, PutItem, Query}, Sends: []string{Queues[0].Name},
		Bucket: []string{"s3:GetObject"}, BucketPrefix: "receipts/", Email: true, Stripe: true, Cursors: true}
	got := Policy(f)
	want := []Statement{
		{Effect: "Allow", Actions: []string{GetItem, PutItem}, Resources: []string{"${TableArn}"}},
		{Effect: "Allow", Actions: []string{Query}, Resources: []string{"${TableArn}", "${TableArn}/index/*"}},
		{Effect: "Allow", Actions: []string{SendMessage}, Resources: []string{"${QueueArn:" + Queues[0].Name + "}"}},
		{Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{"${BucketArn}/receipts/*"}},
		{Effect: "Allow", Actions: []string{"ses:SendEmail"}, Resources: []string{
			"arn:${Partition}:ses:${Region}:${Account}:identity/${MailFromAddress}",
			"arn:${Partition}:ses:${Region}:${Account}:identity/${MailFromDomain}"}},
	}
	var params []string
	for _, env := range f.SecretParamEnv() {
		params = append(params, "arn:${Partition}:ssm:${Region}:${Account}:parameter${Param:"+env+"}")
	}
	want = append(want,
		Statement{Effect: "Allow", Actions: []string{SSMGetParameter}, Resources: params},
		Statement{Effect: "Allow", Actions: []string{KMSDecrypt}, Resources: []string{"arn:${Partition}:kms:${Region}:${Account}:key/*"},
			Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": "ssm.${Region}.amazonaws.com"}}})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Policy:\n got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(strings.Join(params, " "), "Param:"+EnvStripeKeyParam) {
		t.Errorf("a Stripe function's policy does not read the Stripe key: %v", params)
	}
	// Query on the table only, on the indexes only; no secret, no SSM or KMS statement.
	for _, c := range []struct {
		table []string
		want  []string
	}{{[]string{Query}, []string{"${TableArn}"}}, {[]string{QueryIndex}, []string{"${TableArn}/index/*"}}} {
		got := Policy(Function{Name: "q", Table: c.table})
		if len(got) != 1 || !reflect.DeepEqual(got[0].Actions, []string{Query}) || !reflect.DeepEqual(got[0].Resources, c.want) {
			t.Errorf("Policy(Table %v) = %+v, want Query on %v alone", c.table, got, c.want)
		}
	}
}

func TestPolicyOfEveryFunctionResolves(t *testing.T) {
	value := func(name string) (string, bool) {
		switch {
		case name == "Partition", name == "Region", name == "Account", name == "TableArn", name == "BucketArn",
			name == "MailFromAddress", name == "MailFromDomain":
			return "x", true
		case strings.HasPrefix(name, "QueueArn:"):
			_, ok := QueueByName(strings.TrimPrefix(name, "QueueArn:"))
			return "q", ok
		case strings.HasPrefix(name, "DLQArn:"):
			_, ok := QueueByName(strings.TrimPrefix(name, "DLQArn:"))
			return "d", ok
		case strings.HasPrefix(name, "Param:"):
			return "/p", true
		}
		return "", false
	}
	for _, f := range Functions {
		for _, s := range Policy(f) {
			if s.Effect != "Allow" || len(s.Actions) == 0 || len(s.Resources) == 0 {
				t.Errorf("%s: statement %+v", f.Name, s)
			}
			for _, r := range s.Resources {
				if _, err := Resolve(r, value); err != nil {
					t.Errorf("%s: %v", f.Name, err)
				}
			}
		}
	}
}

func TestResolve(t *testing.T) {
	vals := map[string]string{"A": "1", "B:c": "2"}
	value := func(n string) (string, bool) { v, ok := vals[n]; return v, ok }
	for in, want := range map[string]string{"x${A}y${B:c}": "x1y2", "plain": "plain", "${A}": "1"} {
		if got, err := Resolve(in, value); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"${Unknown}", "${A"} {
		if _, err := Resolve(bad, value); err == nil {
			t.Errorf("Resolve(%q) accepted", bad)
		}
	}
}

// TestPolicyRendersBucketAlso: further grants under other prefixes are statements of their own,
// each on its prefix's objects only.
func TestPolicyRendersBucketAlso(t *testing.T) {
	f := Function{Name: "f", Bucket: []string{"s3:PutObject", "s3:GetObject"}, BucketPrefix: "exports/",
		BucketAlso: []BucketGrant{{Actions: []string{"s3:GetObject"}, Prefix: "receipts/"}}}
	got := Policy(f)
	want := []Statement{
		{Effect: "Allow", Actions: []string{"s3:PutObject", "s3:GetObject"}, Resources: []string{"${BucketArn}/exports/*"}},
		{Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{"${BucketArn}/receipts/*"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("policy %+v, want %+v", got, want)
	}
}

// TestPolicyInspectQueues: InspectQueues is sqs:GetQueueAttributes on every queue and every DLQ,
// one statement, and no other action.
func TestPolicyInspectQueues(t *testing.T) {
	got := Policy(Function{Name: "q", InspectQueues: true})
	var want []string
	for _, q := range Queues {
		want = append(want, QueueArnPlaceholder(q.Name), DLQArnPlaceholder(q.Name))
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Actions, []string{GetQueueAttributes}) || !reflect.DeepEqual(got[0].Resources, want) {
		t.Errorf("Policy(InspectQueues) = %+v, want GetQueueAttributes on %v", got, want)
	}
	if len(Policy(Function{Name: "q"})) != 0 {
		t.Error("a function without InspectQueues has a policy")
	}
}
