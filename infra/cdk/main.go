// Command cdk synthesizes the monetization stack from the function manifest.
//
//	npx cdk synth -c env=dev      # or env=prod; other settings in cdk.json "context"
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := ConfigFromContext(func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return v
		}
		return ""
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cdk:", err)
		os.Exit(2)
	}
	NewMonetizationStack(app, "Monetization-"+cfg.Env, &MonetizationStackProps{
		StackProps: awscdk.StackProps{
			Env:         env(),
			Description: jsii.String("Liberation monetization (" + cfg.Env + "), generated from shared/manifest"),
		},
		Config: cfg,
	})
	app.Synth(nil)
}

// env pins the stack to the CLI's account and region when known; otherwise it stays
// environment-agnostic (synth without credentials).
func env() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}
