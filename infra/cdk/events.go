package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// addEventRules creates, for every queue another system feeds (manifest QueueDef.FedBy), the
// EventBridge rule on the default bus that matches its events and puts each on the queue in our
// envelope (the manifest's input transformer, as in template.yaml), and lets exactly that rule
// send to the queue. The target retries as EventBridge does by default (stated explicitly) and then
// dead-letters the raw event to a queue of the rule's own, which alarms like every DLQ. An L1 rule
// keeps the transformer byte-for-byte the manifest's.
func addEventRules(stack awscdk.Stack, d *data, topic awssns.Topic) {
	for _, q := range m.Queues {
		if q.FedBy == nil {
			continue
		}
		queue := d.queues[q.Name]
		dlq := awssqs.NewQueue(stack, jsii.String(q.RuleDLQLogicalID()), &awssqs.QueueProps{
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
		})
		setLogicalID(dlq, q.RuleDLQLogicalID())
		skipChecks(dlq, m.SkipSQSManagedSSE)
		alarm(stack, topic, q.RuleDLQLogicalID()+"Alarm", "Events the "+q.RuleLogicalID()+" rule could not deliver to "+
			q.Name+": re-send them with aws events put-events once the queue is healthy.",
			dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"),
			}), 0)
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
				RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
					MaximumEventAgeInSeconds: jsii.Number(m.RuleMaxEventAgeSeconds),
					MaximumRetryAttempts:     jsii.Number(m.RuleMaxRetryAttempts),
				},
				DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
			}},
		})
		rule.OverrideLogicalId(jsii.String(q.RuleLogicalID()))
		for _, target := range []awssqs.Queue{queue, dlq} {
			target.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
				Actions:    jsii.Strings(m.SendMessage),
				Resources:  &[]*string{target.QueueArn()},
				Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule.AttrArn()}},
			}))
		}
	}
}
