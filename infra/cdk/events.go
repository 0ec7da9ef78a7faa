package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// addEventRules creates, for every queue another system feeds (manifest QueueDef.FedBy), the
// EventBridge rule on the default bus that matches its events and puts each on the queue in our
// envelope (the manifest's input transformer, as in template.yaml), and lets exactly that rule
// send to the queue. An L1 rule keeps the transformer byte-for-byte the manifest's.
func addEventRules(stack awscdk.Stack, d *data) {
	for _, q := range m.Queues {
		if q.FedBy == nil {
			continue
		}
		queue := d.queues[q.Name]
		paths := map[string]*string{}
		for k, v := range m.RuleInputPaths {
			paths[k] = jsii.String(v)
		}
		rule := awsevents.NewCfnRule(stack, jsii.String(q.RuleLogicalID()), &awsevents.CfnRuleProps{
			Description: jsii.String("Deliver " + q.FedBy.Source + " events to the " + q.Name + " queue"),
			State:       jsii.String("ENABLED"),
			EventPattern: map[string]any{
				"source":      []string{q.FedBy.Source},
				"detail-type": q.FedBy.DetailTypes,
			},
			Targets: []any{&awsevents.CfnRule_TargetProperty{
				Id:  jsii.String(q.LogicalID()),
				Arn: queue.QueueArn(),
				InputTransformer: &awsevents.CfnRule_InputTransformerProperty{
					InputPathsMap: paths,
					InputTemplate: jsii.String(m.RuleInputTemplate),
				},
			}},
		})
		rule.OverrideLogicalId(jsii.String(q.RuleLogicalID()))
		queue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    jsii.Strings(m.SendMessage),
			Resources:  &[]*string{queue.QueueArn()},
			Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule.AttrArn()}},
		}))
	}
}
