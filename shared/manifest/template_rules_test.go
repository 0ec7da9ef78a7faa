package manifest_test

import (
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// A queue another system feeds (QueueDef.FedBy) has its EventBridge rule in template.yaml — the
// manifest's pattern and input transformer, targeting the queue — and a policy letting only it send.
func TestTemplateEventRules(t *testing.T) {
	tpl := loadTemplate(t)
	fed := 0
	for _, q := range m.Queues {
		if q.FedBy == nil {
			continue
		}
		fed++
		r, ok := tpl.Resources[q.RuleLogicalID()]
		if !ok || r.Type != "AWS::Events::Rule" {
			t.Fatalf("no AWS::Events::Rule %s", q.RuleLogicalID())
		}
		p := r.Properties
		eq(t, "source", at(p, "EventPattern", "source"), []any{q.FedBy.Source})
		var types []any
		for _, d := range q.FedBy.DetailTypes {
			types = append(types, d)
		}
		eq(t, "detail-type", at(p, "EventPattern", "detail-type"), types)
		targets, _ := p["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("%d targets", len(targets))
		}
		eq(t, "target", at(targets[0], "Arn", "Fn::GetAtt"), []any{q.LogicalID(), "Arn"})
		eq(t, "InputTemplate", at(targets[0], "InputTransformer", "InputTemplate"), m.RuleInputTemplate)
		paths, _ := at(targets[0], "InputTransformer", "InputPathsMap").(map[string]any)
		if len(paths) != len(m.RuleInputPaths) {
			t.Errorf("InputPathsMap %v", paths)
		}
		for k, v := range m.RuleInputPaths {
			eq(t, "path "+k, paths[k], v)
		}
		// Undeliverable events end in the rule's own DLQ after the stated retries.
		eq(t, "max event age", at(targets[0], "RetryPolicy", "MaximumEventAgeInSeconds"), float64(m.RuleMaxEventAgeSeconds))
		eq(t, "max attempts", at(targets[0], "RetryPolicy", "MaximumRetryAttempts"), float64(m.RuleMaxRetryAttempts))
		eq(t, "rule dlq", at(targets[0], "DeadLetterConfig", "Arn", "Fn::GetAtt"), []any{q.RuleDLQLogicalID(), "Arn"})
		eq(t, "rule dlq type", tpl.Resources[q.RuleDLQLogicalID()].Type, "AWS::SQS::Queue")
		for _, queue := range []string{q.LogicalID(), q.RuleDLQLogicalID()} {
			pol := tpl.Resources[queue+"Policy"]
			eq(t, "policy type", pol.Type, "AWS::SQS::QueuePolicy")
			eq(t, "policy queue", at(pol.Properties, "Queues"), []any{map[string]any{"Ref": queue}})
			stmts, _ := at(pol.Properties, "PolicyDocument", "Statement").([]any)
			if len(stmts) != 1 {
				t.Fatalf("%d statements", len(stmts))
			}
			s := stmts[0]
			eq(t, "principal", at(s, "Principal", "Service"), "events.amazonaws.com")
			eq(t, "action", at(s, "Action"), m.SendMessage)
			eq(t, "resource", at(s, "Resource", "Fn::GetAtt"), []any{queue, "Arn"})
			eq(t, "source arn", at(s, "Condition", "ArnEquals", "aws:SourceArn", "Fn::GetAtt"), []any{q.RuleLogicalID(), "Arn"})
		}
	}
	if fed == 0 {
		t.Fatal("no queue is fed by a rule: the check would pass vacuously")
	}
}
