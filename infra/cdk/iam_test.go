package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// statement is one IAM policy statement; Action and Resource may be a string or a list.
type statement struct {
	Effect    string
	Action    any
	Resource  any
	Condition map[string]any
}

func list(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			b, _ := json.Marshal(x)
			out[i] = strings.Trim(string(b), `"`)
		}
		return out
	case map[string]any: // one intrinsic, e.g. {"Fn::Join": ...}
		b, _ := json.Marshal(v)
		return []string{string(b)}
	}
	return nil
}

var paramARN = regexp.MustCompile(`:parameter/([^"]+)`)

// policies returns each AWS::IAM::Policy's statements keyed by the role logical id it attaches to.
func policies(t *testing.T, c cfn) map[string][]statement {
	t.Helper()
	out := map[string][]statement{}
	for id, r := range c.ofType("AWS::IAM::Policy") {
		var doc struct{ Statement []statement }
		raw, _ := json.Marshal(r.Properties["PolicyDocument"])
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for _, role := range r.Properties["Roles"].([]any) {
			ref := role.(map[string]any)["Ref"].(string)
			out[ref] = append(out[ref], doc.Statement...)
		}
	}
	return out
}

// tableWalker reports whether a role is a table walker's (manifest.TableWalkers may Scan).
func tableWalker(role string) bool {
	for name := range m.TableWalkers {
		if strings.HasPrefix(role, m.Pascal(name)) {
			return true
		}
	}
	return false
}

func TestNoWildcardOrScanActions(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		pols := policies(t, c)
		if len(pols) == 0 {
			t.Fatal("no IAM policies found: the check below would pass vacuously")
		}
		for role, stmts := range pols {
			if isDeploymentHandlerRole(role) {
				continue // CDK's grants (s3:GetObject* …), limited to the console and asset buckets: TestConsoleDeploymentRole
			}
			for _, s := range stmts {
				for _, a := range list(s.Action) {
					if a == "*" || strings.HasSuffix(a, ":*") || strings.Contains(a, "*") {
						t.Errorf("%s: wildcard action %q", role, a)
					}
					if strings.EqualFold(a, "dynamodb:Scan") && !tableWalker(role) {
						t.Errorf("%s: grants dynamodb:Scan", role)
					}
				}
			}
		}
	}
}

// sqsConsume is what an SQS event source mapping needs (added by CDK for queue consumers).
var sqsConsume = []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
	"sqs:GetQueueUrl", "sqs:ReceiveMessage"}

// wantActions is computed from the manifest fields directly, not from the stack's own helpers.
func wantActions(f m.Function) []string {
	var want []string
	for _, a := range f.Table {
		if a == m.QueryIndex {
			a = m.Query // the same IAM action, on the indexes
		}
		want = append(want, a)
	}
	want = append(want, f.Bucket...)
	if len(f.Sends) > 0 {
		want = append(want, "sqs:SendMessage")
	}
	if f.InspectQueues {
		want = append(want, "sqs:GetQueueAttributes") // GET /admin/queues: every queue's and DLQ's depth
	}
	if f.Email {
		want = append(want, "ses:SendEmail")
	}
	if f.Cursors || f.Stripe || f.WebhookSecret || f.SigningKey {
		want = append(want, "ssm:GetParameter", "kms:Decrypt") // a secret's parameter and its key
	}
	if f.Trigger.Kind == m.Queue {
		want = append(want, sqsConsume...)
	}
	return uniq(want)
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func TestFunctionPoliciesMatchManifest(t *testing.T) {
	c, _ := synth(t, "dev")
	pols := policies(t, c)
	fns := c.ofType("AWS::Lambda::Function")
	for _, f := range m.Functions {
		t.Run(f.Name, func(t *testing.T) {
			role := fns[f.LogicalID()].Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
			stmts := pols[role]
			var got, also []string
			params := map[string]bool{}
			for _, s := range stmts {
				if s.Effect != "Allow" {
					t.Errorf("non-Allow statement %+v", s)
				}
				actions := list(s.Action)
				got = append(got, actions...)
				res := strings.Join(list(s.Resource), " ")
				switch {
				case len(actions) == 1 && actions[0] == m.Query:
					// The table where the entry lists Query, its indexes where it lists QueryIndex.
					n := 0
					for _, r := range list(s.Resource) {
						b, _ := json.Marshal(r)
						idx := strings.Contains(string(b), "/index/*")
						if !strings.Contains(string(b), m.TableLogicalName) ||
							(idx && !slices.Contains(f.Table, m.QueryIndex)) || (!idx && !slices.Contains(f.Table, m.Query)) {
							t.Errorf("Query on %s; the entry lists %v", b, f.Table)
						}
						n++
					}
					if n == 0 {
						t.Error("Query on no resource")
					}
				case strings.HasPrefix(actions[0], "dynamodb:"):
					// Item actions: the table only (DynamoDB never authorises them on an index).
					if len(list(s.Resource)) != 1 || !strings.Contains(res, m.TableLogicalName) ||
						strings.Contains(res, "/index/") || slices.Contains(actions, m.Query) {
						t.Errorf("dynamodb item actions %v on %s, want the table alone", actions, res)
					}
				case actions[0] == "ssm:GetParameter":
					for _, r := range list(s.Resource) {
						if p := paramARN.FindStringSubmatch(r); p != nil {
							params[p[1]] = true
						}
					}
				case actions[0] == "kms:Decrypt":
					if s.Condition == nil {
						t.Error("kms:Decrypt without a kms:ViaService condition")
					}
				case actions[0] == m.S3ListBucketVersions || slices.Contains(actions, m.S3DeleteObjectVersion):
					// BucketVersions: the versions listing on the bucket alone, held to one of the
					// entry's prefixes by s3:prefix; the deletes on that prefix's objects.
					cond, _ := json.Marshal(s.Condition)
					ok := len(list(s.Resource)) == 1 && strings.Contains(res, `"`+m.BucketLogicalID+`"`)
					hit := false
					for _, p := range f.BucketVersions {
						if actions[0] == m.S3ListBucketVersions {
							hit = hit || strings.Contains(string(cond), `"s3:prefix":"`+p+`*"`)
						} else {
							hit = hit || strings.Contains(res, `"/`+p+`*"`)
						}
					}
					if !ok || !hit {
						t.Errorf("%v on %s (condition %s): want the bucket held to a BucketVersions prefix", actions, res, cond)
					}
					got = got[:len(got)-len(actions)]
					also = append(also, actions...)
				case strings.HasPrefix(actions[0], "s3:"):
					// The bucket's objects under the statement's prefix only: BucketPrefix for the
					// Bucket actions, a BucketAlso grant's prefix for its own actions.
					prefix := f.BucketPrefix
					for _, g := range f.BucketAlso {
						if slices.Equal(actions, g.Actions) && strings.Contains(res, `"/`+g.Prefix+`*"`) {
							prefix = g.Prefix
						}
					}
					if !strings.Contains(res, `"`+m.BucketLogicalID+`"`) || !strings.Contains(res, `"/`+prefix+`*"`) ||
						len(list(s.Resource)) != 1 {
						t.Errorf("s3 resources %s, want the bucket's objects under %q only", res, prefix)
					}
					if prefix != f.BucketPrefix {
						got = got[:len(got)-len(actions)] // counted on their own prefix, not as repeats
						also = append(also, actions...)
					}
				}
			}
			checkEq(t, "actions", uniq(got), wantActions(f))
			var wantAlso []string
			for _, g := range f.BucketAlso {
				wantAlso = append(wantAlso, g.Actions...)
			}
			for range f.BucketVersions {
				wantAlso = append(wantAlso, m.S3ListBucketVersions, m.S3DeleteObjectVersion)
			}
			checkEq(t, "further bucket actions", also, wantAlso)
			if len(got) != len(uniq(got)) {
				t.Errorf("actions granted more than once: %v", got)
			}
			wantParams := map[string]bool{}
			if f.Cursors {
				wantParams["monetization/dev/cursor-secret"] = true
			}
			if f.Stripe {
				wantParams["monetization/dev/stripe-secret-key"] = true
			}
			if f.WebhookSecret {
				wantParams["monetization/dev/stripe-webhook-secret"] = true
			}
			if f.SigningKey {
				wantParams["monetization/dev/license-signing-key"] = true
			}
			checkEq(t, "ssm parameters", params, wantParams)
		})
	}
}

func TestScheduleRolesInvokeOnlyTheirFunction(t *testing.T) {
	c, _ := synth(t, "dev")
	pols := policies(t, c)
	for _, f := range m.Of(m.Schedule) {
		stmts := pols[c.scheduleRole(t, f)]
		if len(stmts) != 1 {
			t.Fatalf("%s schedule role has %d statements, want 1", f.Name, len(stmts))
		}
		checkEq(t, "actions", list(stmts[0].Action), []string{"lambda:InvokeFunction"})
		checkEq(t, "resource", stmts[0].Resource, map[string]any{"Fn::GetAtt": []any{f.LogicalID(), "Arn"}})
	}
}

func (c cfn) scheduleRole(t *testing.T, f m.Function) string {
	t.Helper()
	s := c.Resources[m.Pascal(f.Name)+"Schedule"].Properties["Target"].(map[string]any)
	return s["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
}
