package gen

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"

	m "github.com/liberation/monetization/shared/manifest"
)

// The static parts of template.yaml (parameters, globals, the HTTP API and Cognito, the bucket,
// outputs) live in sam/; the functions, table indexes and queues are written from the manifest.
//
//go:embed sam/*.yaml
var samParts embed.FS

func part(name string) string {
	b, err := samParts.ReadFile("sam/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return string(b)
}

// paramOf maps an env var naming an SSM parameter to its template parameter.
var paramOf = map[string]string{
	m.EnvStripeKeyParam:   "StripeSecretKeyParam",
	m.EnvWebhookParam:     "StripeWebhookSecretParam",
	m.EnvCursorSecretName: "CursorSecretParam",
	m.EnvLicenseKeyParam:  "LicenseSigningKeyParam",
}

// envParamOf maps a configuration variable a function lists in Env to its template parameter.
var envParamOf = map[string]string{
	m.EnvPayoutMinimum: "PayoutMinimumCents",
}

// Template is template.yaml.
func Template() ([]byte, error) {
	var b strings.Builder
	b.WriteString(part("head.yaml"))
	b.WriteString("Resources:\n")
	for _, f := range m.Functions {
		if err := writeFunction(&b, f); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	b.WriteString(part("static.yaml"))
	writeTable(&b)
	b.WriteString(part("bucket.yaml"))
	for _, q := range m.Queues {
		writeQueue(&b, q)
		if q.FedBy != nil {
			writeEventRule(&b, q)
		}
	}
	b.WriteString(part("outputs.yaml"))
	return []byte(b.String()), nil
}

func writeFunction(b *strings.Builder, f m.Function) error {
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat(" ", indent))
		fmt.Fprintf(b, format, args...)
		b.WriteByte('\n')
	}
	w(0, "")
	w(2, "# %s", f.Summary)
	w(2, "%s:", f.LogicalID())
	w(4, "Type: AWS::Serverless::Function")
	w(4, "Metadata:")
	w(6, "BuildMethod: go1.x")
	w(6, "BuildProperties:")
	w(8, "TrimGoPath: true")
	b.WriteString(checkovYAML(6, f.ScanSkips()...))
	w(4, "Properties:")
	w(6, "CodeUri: %s", f.CodeDir())
	w(6, "Description: %s", strconv.Quote(f.Summary))
	w(6, "Timeout: %d", f.Timeout())
	w(6, "MemorySize: %d", f.Memory())
	if f.ReservedConcurrency > 0 {
		w(6, "ReservedConcurrentExecutions: %d", f.ReservedConcurrency)
	}
	w(6, "Environment:")
	w(8, "Variables:")
	w(10, "FUNCTION_NAME: %s", f.Name)
	for _, env := range f.SecretParamEnv() {
		w(10, "%s:", env)
		w(12, "Ref: %s", paramOf[env])
	}
	for _, q := range f.SendQueues() {
		w(10, "%s:", q.EnvVar())
		w(12, "Ref: %s", q.LogicalID())
	}
	for _, q := range f.InspectedQueues() { // GET /admin/queues: every queue's and DLQ's URL
		w(10, "%s:", q.EnvVar())
		w(12, "Ref: %s", q.LogicalID())
		w(10, "%s:", q.DLQEnvVar())
		w(12, "Ref: %s", q.DLQLogicalID())
	}
	for _, env := range f.Env {
		param, ok := envParamOf[env]
		if !ok {
			return fmt.Errorf("no template parameter for environment variable %s", env)
		}
		w(10, "%s:", env)
		w(12, "Ref: %s", param)
	}
	// Its own log group with a retention (CDK's is the same; Lambda's default group keeps logs
	// forever).
	w(6, "LoggingConfig:")
	w(8, "LogGroup:")
	w(10, "Ref: %sLogs", f.LogicalID())
	if err := writePolicies(w, m.Policy(f)); err != nil {
		return err
	}
	if err := writeEvents(w, f); err != nil {
		return err
	}
	w(0, "")
	w(2, "%sLogs:", f.LogicalID())
	w(4, "Type: AWS::Logs::LogGroup")
	b.WriteString(metadataYAML(m.SkipLogGroupKMS))
	w(4, "Properties:")
	w(6, "RetentionInDays: 30")
	return nil
}

// writeEvents writes the function's trigger as its SAM event (or function URL).
func writeEvents(w func(int, string, ...any), f m.Function) error {
	switch f.Trigger.Kind {
	case m.HTTP:
		authorizer := "NONE"
		if f.NeedsJWT() {
			authorizer = "CognitoJwt"
		}
		w(6, "Events:")
		w(8, "Api:")
		w(10, "Type: HttpApi")
		w(10, "Properties:")
		w(12, "ApiId:")
		w(14, "Ref: HttpApi")
		w(12, "Method: %s", f.Trigger.Method)
		w(12, "Path: %s", f.Trigger.Path)
		w(12, `PayloadFormatVersion: "2.0"`)
		w(12, "Auth:")
		w(14, "Authorizer: %s", authorizer)
	case m.FunctionURL:
		w(6, "FunctionUrlConfig:")
		w(8, "AuthType: NONE")
	case m.Queue:
		q, ok := m.QueueByName(f.Trigger.Queue)
		if !ok {
			return fmt.Errorf("unknown queue %q", f.Trigger.Queue)
		}
		w(6, "Events:")
		w(8, "Queue:")
		w(10, "Type: SQS")
		w(10, "Properties:")
		w(12, "Queue:")
		w(14, "Fn::GetAtt: [%s, Arn]", q.LogicalID())
		w(12, "BatchSize: %d", f.Trigger.BatchSize)
		w(12, "FunctionResponseTypes: [ReportBatchItemFailures]")
	case m.Schedule:
		w(6, "Events:")
		w(8, "Schedule:")
		w(10, "Type: ScheduleV2")
		w(10, "Properties:")
		w(12, "ScheduleExpression: %s", strconv.Quote(f.Trigger.Expression))
		w(12, "ScheduleExpressionTimezone: UTC")
		w(12, "FlexibleTimeWindow:")
		w(14, `Mode: "OFF"`)
		w(12, "RetryPolicy:")
		w(14, "MaximumRetryAttempts: 2")
		w(12, "Input: %s", strconv.Quote(f.ScheduleInput()))
	default:
		return fmt.Errorf("no SAM event for trigger %q", f.Trigger.Kind)
	}
	return nil
}

// writePolicies renders the function's statements (manifest.Policy) as its SAM policy: an ARN that is
// exactly one resource's ARN as Fn::GetAtt, anything else as Fn::Sub with the template's own
// pseudo parameters and parameters in place of the placeholders.
func writePolicies(w func(int, string, ...any), stmts []m.Statement) error {
	if len(stmts) == 0 {
		return nil
	}
	w(6, "Policies:")
	w(8, "- Statement:")
	for _, s := range stmts {
		w(12, "- Effect: %s", s.Effect)
		w(14, "Action: [%s]", strings.Join(s.Actions, ", "))
		w(14, "Resource:")
		for _, r := range s.Resources {
			v, err := samValue(r)
			if err != nil {
				return err
			}
			w(16, "- %s", v)
		}
		if len(s.Condition) > 0 {
			w(14, "Condition:")
			for _, op := range policyKeys(s.Condition) {
				w(16, "%s:", op)
				for _, k := range policyKeys(s.Condition[op]) {
					v, err := samValue(s.Condition[op][k])
					if err != nil {
						return err
					}
					w(18, "%s:", k)
					w(20, "%s", v)
				}
			}
		}
	}
	return nil
}

// samValue renders a policy template: "Fn::GetAtt: [Table, Arn]" for a bare resource ARN,
// otherwise "Fn::Sub: ..." with the placeholders turned into template references.
func samValue(tpl string) (string, error) {
	switch {
	case tpl == m.PlaceholderTableArn:
		return "Fn::GetAtt: [" + m.TableLogicalName + ", Arn]", nil
	case strings.HasPrefix(tpl, "${QueueArn:") && strings.HasSuffix(tpl, "}") && strings.Count(tpl, "${") == 1:
		q, ok := m.QueueByName(strings.TrimSuffix(strings.TrimPrefix(tpl, "${QueueArn:"), "}"))
		if !ok {
			return "", fmt.Errorf("policy names an unknown queue: %s", tpl)
		}
		return "Fn::GetAtt: [" + q.LogicalID() + ", Arn]", nil
	case strings.HasPrefix(tpl, "${DLQArn:") && strings.HasSuffix(tpl, "}") && strings.Count(tpl, "${") == 1:
		q, ok := m.QueueByName(strings.TrimSuffix(strings.TrimPrefix(tpl, "${DLQArn:"), "}"))
		if !ok {
			return "", fmt.Errorf("policy names an unknown queue: %s", tpl)
		}
		return "Fn::GetAtt: [" + q.DLQLogicalID() + ", Arn]", nil
	}
	sub, err := m.Resolve(tpl, func(name string) (string, bool) {
		switch {
		case name == "Partition":
			return "${AWS::Partition}", true
		case name == "Region":
			return "${AWS::Region}", true
		case name == "Account":
			return "${AWS::AccountId}", true
		case name == "TableArn":
			return "${" + m.TableLogicalName + ".Arn}", true
		case name == "BucketArn":
			return "${" + m.BucketLogicalID + ".Arn}", true
		case name == "MailFromAddress":
			return "${MailFrom}", true // the parameter is a bare address (its AllowedPattern)
		case name == "MailFromDomain":
			return "${MailFromDomain}", true // a variable of this Fn::Sub, below
		case strings.HasPrefix(name, "QueueArn:"):
			q, ok := m.QueueByName(strings.TrimPrefix(name, "QueueArn:"))
			return "${" + q.LogicalID() + ".Arn}", ok
		case strings.HasPrefix(name, "DLQArn:"):
			q, ok := m.QueueByName(strings.TrimPrefix(name, "DLQArn:"))
			return "${" + q.DLQLogicalID() + ".Arn}", ok
		case strings.HasPrefix(name, "Param:"):
			p, ok := paramOf[strings.TrimPrefix(name, "Param:")]
			return "${" + p + "}", ok // the template parameter holds the name with its leading slash
		}
		return "", false
	})
	if err != nil {
		return "", err
	}
	if strings.Contains(tpl, m.PlaceholderMailFromDomain) {
		// CloudFormation has no function for "the part after @" inside Fn::Sub's string: the
		// domain is a variable computed with Fn::Split.
		return "Fn::Sub: [" + strconv.Quote(sub) + `, {MailFromDomain: {"Fn::Select": [1, {"Fn::Split": ["@", {Ref: MailFrom}]}]}}]`, nil
	}
	return "Fn::Sub: " + strconv.Quote(sub), nil
}

func policyKeys[V any](mp map[string]V) []string {
	out := make([]string, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeTable(b *strings.Builder) {
	b.WriteString(`  Table:
    Type: AWS::DynamoDB::Table
` + metadataYAML(m.SkipTableCMK) + `    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: PK
          AttributeType: S
        - AttributeName: SK
          AttributeType: S
`)
	for _, ix := range m.Indexes {
		fmt.Fprintf(b, "        - AttributeName: %s\n          AttributeType: S\n        - AttributeName: %s\n          AttributeType: S\n", ix.PK, ix.SK)
	}
	b.WriteString(`      KeySchema:
        - AttributeName: PK
          KeyType: HASH
        - AttributeName: SK
          KeyType: RANGE
      GlobalSecondaryIndexes:
`)
	for _, ix := range m.Indexes {
		fmt.Fprintf(b, `        - IndexName: %s
          KeySchema:
            - AttributeName: %s
              KeyType: HASH
            - AttributeName: %s
              KeyType: RANGE
          Projection:
            ProjectionType: ALL
`, ix.Name, ix.PK, ix.SK)
	}
	fmt.Fprintf(b, `      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: true
      TimeToLiveSpecification:
        AttributeName: %s
        Enabled: true

`, m.AttrTTL)
}

func writeQueue(b *strings.Builder, q m.QueueDef) {
	fmt.Fprintf(b, `  %s:
    Type: AWS::SQS::Queue
`+metadataYAML(m.SkipSQSManagedSSE)+`    Properties:
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true

  %s:
    Type: AWS::SQS::Queue
`+metadataYAML(m.SkipSQSManagedSSE)+`    Properties:
      VisibilityTimeout: %d
      MessageRetentionPeriod: 345600
      SqsManagedSseEnabled: true
      RedrivePolicy:
        deadLetterTargetArn:
          Fn::GetAtt: [%s, Arn]
        maxReceiveCount: %d

`, q.DLQLogicalID(), q.LogicalID(), q.VisibilitySeconds, q.DLQLogicalID(), q.MaxReceiveCount)
}

// writeEventRule writes the EventBridge rule that feeds q from another system, with the input
// transformer that wraps each event in our queue envelope, its retry policy and dead-letter queue,
// and the queue policies letting that rule (and only it) send to q and to that DLQ.
func writeEventRule(b *strings.Builder, q m.QueueDef) {
	var types []string
	for _, t := range q.FedBy.DetailTypes {
		types = append(types, strconv.Quote(t))
	}
	keys := make([]string, 0, len(m.RuleInputPaths))
	for k := range m.RuleInputPaths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var paths strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&paths, "              %s: %s\n", k, strconv.Quote(m.RuleInputPaths[k]))
	}
	fmt.Fprintf(b, `  %s:
    Type: AWS::Events::Rule
    Properties:
      Description: %s
      State: ENABLED
      EventPattern:
        source: [%s]
        detail-type: [%s]
      Targets:
        - Id: %s
          Arn:
            Fn::GetAtt: [%s, Arn]
          InputTransformer:
            InputPathsMap:
%s            InputTemplate: %s
          RetryPolicy:
            MaximumEventAgeInSeconds: %d
            MaximumRetryAttempts: %d
          DeadLetterConfig:
            Arn:
              Fn::GetAtt: [%s, Arn]

  %s:
    Type: AWS::SQS::Queue
`+metadataYAML(m.SkipSQSManagedSSE)+`    Properties:
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true

`, q.RuleLogicalID(), strconv.Quote("Deliver "+q.FedBy.Source+" events to the "+q.Name+" queue"),
		strconv.Quote(q.FedBy.Source), strings.Join(types, ", "), q.LogicalID(), q.LogicalID(),
		paths.String(), strconv.Quote(m.RuleInputTemplate),
		m.RuleMaxEventAgeSeconds, m.RuleMaxRetryAttempts, q.RuleDLQLogicalID(), q.RuleDLQLogicalID())
	writeRulePolicy(b, q.LogicalID(), q.RuleLogicalID())
	writeRulePolicy(b, q.RuleDLQLogicalID(), q.RuleLogicalID())
}

// writeRulePolicy writes the queue policy that lets the rule (and only it) send to the queue.
func writeRulePolicy(b *strings.Builder, queueID, ruleID string) {
	fmt.Fprintf(b, `  %sPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues:
        - Ref: %s
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: events.amazonaws.com
            Action: %s
            Resource:
              Fn::GetAtt: [%s, Arn]
            Condition:
              ArnEquals:
                aws:SourceArn:
                  Fn::GetAtt: [%s, Arn]

`, queueID, queueID, m.SendMessage, queueID, ruleID)
}
