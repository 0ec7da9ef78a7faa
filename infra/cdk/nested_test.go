package main

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// flatten returns the stack's template with every nested stack inlined: the nested templates'
// resources and conditions join the parent's, each nested-stack parameter reference is replaced by
// the value the parent passes, and the AWS::CloudFormation::Stack resources go away. Tests then
// check the system as one template, wherever CDK placed each resource (functionScope).
func flatten(t testing.TB, stack awscdk.Stack) map[string]any {
	t.Helper()
	parent := toMap(t, assertions.Template_FromStack(stack, nil).ToJSON())
	resources := parent["Resources"].(map[string]any)
	for _, child := range *stack.Node().Children() {
		if !*awscdk.NestedStack_IsNestedStack(child) {
			continue
		}
		nested := child.(awscdk.NestedStack)
		id := *stack.GetLogicalId(nested.NestedStackResource().(awscdk.CfnElement))
		params, _ := resources[id].(map[string]any)["Properties"].(map[string]any)["Parameters"].(map[string]any)
		tpl := toMap(t, assertions.Template_FromStack(nested, nil).ToJSON())
		for rid, r := range tpl["Resources"].(map[string]any) {
			if _, clash := resources[rid]; clash {
				t.Fatalf("resource %s is in the parent and in nested stack %s", rid, id)
			}
			resources[rid] = substitute(r, params)
		}
		delete(resources, id)
	}
	return parent
}

// substitute replaces {"Ref": <parameter>} by the parent's value for that parameter.
func substitute(v any, params map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if name, ok := x["Ref"].(string); ok {
				if val, ok := params[name]; ok {
					return val
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substitute(e, params)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, params)
		}
		return out
	}
	return v
}

func toMap(t testing.TB, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Each area's functions sit in their own nested stack, and every stack stays under
// CloudFormation's 500 resources with room to grow.
func TestStacksStayUnderTheResourceLimit(t *testing.T) {
	cfg := testConfig(t, "dev")
	app := awscdk.NewApp(nil)
	stack := NewMonetizationStack(app, "Limit-dev", &MonetizationStackProps{Config: cfg})
	count := func(s awscdk.Stack) int {
		return len(toMap(t, assertions.Template_FromStack(s, nil).ToJSON())["Resources"].(map[string]any))
	}
	n := count(stack)
	t.Logf("parent: %d resources", n)
	if n > 400 {
		t.Errorf("the parent stack has %d resources (CloudFormation allows 500)", n)
	}
	nested := 0
	for _, child := range *stack.Node().Children() {
		if *awscdk.NestedStack_IsNestedStack(child) {
			nested++
			s := child.(awscdk.NestedStack)
			n := count(s)
			t.Logf("%s: %d resources", *s.Node().Id(), n)
			if n > 400 {
				t.Errorf("nested stack %s has %d resources (CloudFormation allows 500)", *s.Node().Id(), n)
			}
		}
	}
	if nested == 0 {
		t.Error("no nested stacks: every function would be in one stack")
	}
}
