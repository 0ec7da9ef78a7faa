package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	m "github.com/liberation/monetization/shared/manifest"
)

// migrateFn is the manifest's migrate function (the trigger's target).
func migrateFn(t *testing.T) m.Function {
	t.Helper()
	for _, f := range m.Functions {
		if f.Name == migrateFunction {
			return f
		}
	}
	t.Fatalf("no %q function in the manifest", migrateFunction)
	return m.Function{}
}

// refs are the logical ids a value names: Ref, Fn::GetAtt (the resource part), at any depth.
func refs(v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch {
			case k == "Ref":
				if s, ok := e.(string); ok {
					out[s] = true
				}
			case k == "Fn::GetAtt":
				if l, ok := e.([]any); ok && len(l) > 0 {
					if s, ok := l[0].(string); ok {
						out[s] = true
					}
				}
			default:
				refs(e, out)
			}
		}
	case []any:
		for _, e := range x {
			refs(e, out)
		}
	}
}

// after are the resources CloudFormation creates before id: those its properties reference and its
// DependsOn names, and theirs, transitively (the flattened template: a nested stack's parameters
// are replaced by what the parent passes, so a reference to the table stays one).
func after(c cfn, id string) map[string]bool {
	seen := map[string]bool{}
	todo := []string{id}
	for len(todo) > 0 {
		r, ok := c.Resources[todo[0]]
		todo = todo[1:]
		if !ok {
			continue // a pseudo parameter (AWS::Region) or a parameter
		}
		direct := map[string]bool{}
		refs(r.Properties, direct)
		for _, d := range list(r.DependsOn) {
			direct[d] = true
		}
		for d := range direct {
			if !seen[d] {
				seen[d] = true
				todo = append(todo, d)
			}
		}
	}
	return seen
}

func getAtt(v any) string {
	l, _ := at(v, "Fn::GetAtt").([]any)
	if len(l) == 0 {
		return ""
	}
	s, _ := l[0].(string)
	return s
}

// The deploy invokes the migrate function: one Custom::Trigger, in both environments, that calls
// the migrate function's current version synchronously (RequestResponse: a FunctionError — a
// refusal or an error — fails the custom resource and so the deploy), waits as long as the
// function may run, runs again whenever the function changes (a new migration is new code), and is
// created only after the table and the function. Its provider's role may invoke that function (its
// versions) and nothing else, and the provider carries its scanner suppressions with reasons.
func TestMigrateOnDeploy(t *testing.T) {
	f := migrateFn(t)
	fnID := f.LogicalID()
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		trs := c.ofType("Custom::Trigger")
		if len(trs) != 1 {
			t.Fatalf("%s: %d Custom::Trigger resources, want 1 (the migrate trigger)", env, len(trs))
		}
		var trID string
		var tr resource
		for id, r := range trs {
			trID, tr = id, r
		}
		p := tr.Properties
		checkEq(t, env+" InvocationType", p["InvocationType"], "RequestResponse")
		checkEq(t, env+" Timeout (ms)", p["Timeout"], strconv.Itoa(f.Timeout()*1000))
		checkEq(t, env+" ExecuteOnHandlerChange", p["ExecuteOnHandlerChange"], true)

		// HandlerArn: the migrate function's current version, so a changed function (new
		// migrations) replaces the value and CloudFormation updates — and so re-runs — the trigger.
		verID, _ := at(p, "HandlerArn", "Ref").(string)
		ver, ok := c.Resources[verID]
		if !ok || ver.Type != "AWS::Lambda::Version" {
			t.Fatalf("%s: HandlerArn %v is not a Lambda version", env, p["HandlerArn"])
		}
		checkEq(t, env+" version of", ver.Properties["FunctionName"], map[string]any{"Ref": fnID})

		// Ordering: created after the migrate function and the table it migrates.
		before := after(c, trID)
		for _, want := range []string{fnID, m.TableLogicalName} {
			if !before[want] {
				t.Errorf("%s: the trigger does not wait for %s (it waits for %v)", env, want, keys(before))
			}
		}

		// And after everything else of the migrate area (schedule, alarm, roles, log group): no
		// resource of the area can fail after a migration ran.
		for id, r := range c.Resources {
			if strings.HasPrefix(id, m.Pascal(migrateFunction)) && id != trID && r.Type != "Custom::Trigger" && !before[id] {
				t.Errorf("%s: the trigger may run before %s (%s)", env, id, r.Type)
			}
		}

		// The provider: a function whose role allows lambda:InvokeFunction on the migrate
		// function's versions only, plus the basic execution role's logging.
		provID := getAtt(p["ServiceToken"])
		prov, ok := c.Resources[provID]
		if !ok || prov.Type != "AWS::Lambda::Function" || !strings.Contains(provID, "TriggerCustomResourceProvider") {
			t.Fatalf("%s: ServiceToken %v is not the trigger provider's function", env, p["ServiceToken"])
		}
		roleID := getAtt(prov.Properties["Role"])
		role, ok := c.Resources[roleID]
		if !ok || role.Type != "AWS::IAM::Role" {
			t.Fatalf("%s: provider role %q not found", env, roleID)
		}
		managed := list(role.Properties["ManagedPolicyArns"])
		if len(managed) != 1 || !strings.HasSuffix(strings.TrimSuffix(managed[0], `"}`), "service-role/AWSLambdaBasicExecutionRole") {
			t.Errorf("%s: provider managed policies %v, want only AWSLambdaBasicExecutionRole", env, managed)
		}
		checkEq(t, env+" provider inline policies", role.Properties["Policies"], []any{map[string]any{
			"PolicyName": "Inline",
			"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Action": []any{"lambda:InvokeFunction"},
				"Resource": []any{map[string]any{"Fn::Join": []any{"", []any{
					map[string]any{"Fn::GetAtt": []any{fnID, "Arn"}}, ":*"}}}},
			}}},
		}})
		for id, pol := range c.ofType("AWS::IAM::Policy") {
			for _, r := range list(pol.Properties["Roles"]) {
				if strings.Contains(r, roleID) {
					t.Errorf("%s: policy %s adds to the provider role: %v", env, id, pol.Properties["PolicyDocument"])
				}
			}
		}

		// checkov: the provider's suppressions, each with its reason, on the resource.
		skips, _ := at(prov.Metadata, "checkov", "skip").([]any)
		got := map[string]bool{}
		for _, s := range skips {
			id, _ := at(s, "id").(string)
			if comment, _ := at(s, "comment").(string); len(comment) < 40 {
				t.Errorf("%s: provider skip %s has no real reason: %q", env, id, comment)
			}
			got[id] = true
		}
		for _, want := range []string{m.CheckLambdaVPC, m.CheckLambdaDLQ, m.CheckLambdaConcurrency} {
			if !got[want] {
				t.Errorf("%s: provider does not suppress %s with a reason (checkov would fail make lint)", env, want)
			}
		}
	}
}

func keys(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

// The migrate area's nested stack is the deploy's last: it depends on every other resource and
// nested stack of the parent, so the migrations run with the new code live everywhere, and a
// failure anywhere else rolls the deploy back before a migration moved the table's version.
func TestMigrationsRunLast(t *testing.T) {
	cfg := testConfig(t, "dev")
	defer os.RemoveAll(cfg.AssetDir)
	stack := NewMonetizationStack(awscdk.NewApp(nil), "Last", &MonetizationStackProps{Config: cfg})
	var parent cfn
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &parent); err != nil {
		t.Fatal(err)
	}
	var migrateID string
	stacks := 0
	for id, r := range parent.Resources {
		if r.Type != "AWS::CloudFormation::Stack" {
			continue
		}
		stacks++
		if strings.HasPrefix(id, m.Pascal(migrateFunction)+"Functions") {
			migrateID = id
		}
	}
	if migrateID == "" || stacks < 2 {
		t.Fatalf("no migrate nested stack among %d nested stacks", stacks)
	}
	deps := map[string]bool{}
	for _, d := range list(parent.Resources[migrateID].DependsOn) {
		deps[d] = true
	}
	for id, r := range parent.Resources {
		if id == migrateID || r.Type == "AWS::CDK::Metadata" {
			continue
		}
		if !deps[id] {
			t.Errorf("the migrate nested stack does not wait for %s (%s)", id, r.Type)
		}
	}
	if !deps[m.TableLogicalName] {
		t.Errorf("the migrate nested stack does not wait for the table")
	}
}
