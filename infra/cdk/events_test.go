package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// Every queue another system feeds has its EventBridge rule — the manifest's pattern and input
// transformer, targeting the queue — and a queue policy that lets only that rule send.
func TestEventRulesFeedTheirQueues(t *testing.T) {
	c, _ := synth(t, "dev")
	rules := c.ofType("AWS::Events::Rule")
	fed := 0
	for _, q := range m.Queues {
		if q.FedBy == nil {
			continue
		}
		fed++
		r, ok := rules[q.RuleLogicalID()]
		if !ok {
			t.Fatalf("no rule %s for %s", q.RuleLogicalID(), q.Name)
		}
		p := r.Properties
		checkEq(t, "state", p["State"], "ENABLED")
		pattern := p["EventPattern"].(map[string]any)
		checkEq(t, "source", pattern["source"], []any{q.FedBy.Source})
		var types []any
		for _, dt := range q.FedBy.DetailTypes {
			types = append(types, dt)
		}
		checkEq(t, "detail-type", pattern["detail-type"], types)
		targets := p["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("%d targets", len(targets))
		}
		target := targets[0].(map[string]any)
		arn, _ := json.Marshal(target["Arn"])
		checkEq(t, "target", string(arn), `{"Fn::GetAtt":["`+q.LogicalID()+`","Arn"]}`)
		tr := target["InputTransformer"].(map[string]any)
		checkEq(t, "InputTemplate", tr["InputTemplate"], m.RuleInputTemplate)
		paths := map[string]any{}
		for k, v := range m.RuleInputPaths {
			paths[k] = v
		}
		checkEq(t, "InputPathsMap", tr["InputPathsMap"], paths)
		retry, _ := json.Marshal(target["RetryPolicy"])
		checkEq(t, "RetryPolicy", string(retry), fmt.Sprintf(`{"MaximumEventAgeInSeconds":%d,"MaximumRetryAttempts":%d}`,
			m.RuleMaxEventAgeSeconds, m.RuleMaxRetryAttempts))
		dl, _ := json.Marshal(target["DeadLetterConfig"])
		checkEq(t, "DeadLetterConfig", string(dl), `{"Arn":{"Fn::GetAtt":["`+q.RuleDLQLogicalID()+`","Arn"]}}`)
		alarmed := false
		for _, a := range c.ofType("AWS::CloudWatch::Alarm") {
			dims, _ := json.Marshal(a.Properties["Dimensions"])
			alarmed = alarmed || strings.Contains(string(dims), `"`+q.RuleDLQLogicalID()+`"`)
		}
		if !alarmed {
			t.Errorf("no alarm on %s", q.RuleDLQLogicalID())
		}
		for _, queue := range []string{q.LogicalID(), q.RuleDLQLogicalID()} {
			checkRulePolicy(t, c, q, queue)
		}
	}
	if fed == 0 || len(rules) != fed {
		t.Errorf("%d rules for %d fed queues", len(rules), fed)
	}
}

// checkRulePolicy checks that queue has a policy letting exactly q's rule send to it.
func checkRulePolicy(t *testing.T, c cfn, q m.QueueDef, queue string) {
	t.Helper()
	found := false
	for _, pol := range c.ofType("AWS::SQS::QueuePolicy") {
		queues, _ := json.Marshal(pol.Properties["Queues"])
		if string(queues) != `[{"Ref":"`+queue+`"}]` {
			continue
		}
		found = true
		doc, _ := json.Marshal(pol.Properties["PolicyDocument"])
		var d struct {
			Statement []struct {
				Effect    string
				Principal map[string]any
				Action    any
				Condition map[string]map[string]any
			}
		}
		_ = json.Unmarshal(doc, &d)
		ok := false
		for _, s := range d.Statement {
			cond, _ := json.Marshal(s.Condition["ArnEquals"]["aws:SourceArn"])
			if s.Effect == "Allow" && s.Principal["Service"] == "events.amazonaws.com" && s.Action == m.SendMessage &&
				string(cond) == `{"Fn::GetAtt":["`+q.RuleLogicalID()+`","Arn"]}` {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: the queue policy does not let exactly its rule send: %s", queue, doc)
		}
	}
	if !found {
		t.Errorf("%s: no queue policy", queue)
	}
}
