package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// skipChecks writes the IaC scanner's suppressions, each with its reason, into the metadata of the
// construct's CloudFormation resource (Metadata.checkov.skip), next to the resource they concern:
// `make lint` runs checkov over the synthesized templates and fails on any finding not explained
// this way (shared/manifest/scan.go, decision 0078).
func skipChecks(c constructs.IConstruct, skips ...m.ScanSkip) {
	list := make([]any, len(skips))
	for i, s := range skips {
		list[i] = map[string]any{"id": s.ID, "comment": s.Comment}
	}
	c.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("checkov"), map[string]any{"skip": list})
}
