// Command cdk synthesizes the monetization stack from the function manifest.
//
//	npx cdk synth -c env=dev      # or env=staging, env=prod; other settings in cdk.json "context"
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if _, err := buildApp(app); err != nil {
		fmt.Fprintln(os.Stderr, "cdk:", err)
		os.Exit(2)
	}
	app.Synth(nil)
}

// buildApp adds the stack described by the app's context (-c key=value and cdk.json). A
// configuration that would deploy something unsafe or broken — e.g. prod without its public appURL —
// is an error and adds nothing.
func buildApp(app awscdk.App) (awscdk.Stack, error) {
	cfg, err := ConfigFromContext(func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return v
		}
		return ""
	})
	if err == nil {
		err = checkAssets(cfg.AssetDir)
	}
	if err == nil { // console.go: the operator console's build (make console)
		err = checkConsole(cfg.consoleDir())
	}
	if err == nil { // backup.go: an optional copy of the daily backups to another region's vault
		raw, _ := app.Node().TryGetContext(jsii.String(BackupCopyVaultContext)).(string)
		_, err = copyVaultArn(raw)
	}
	if err != nil {
		return nil, err
	}
	return NewMonetizationStack(app, cfg.StackName(), &MonetizationStackProps{
		StackProps: awscdk.StackProps{
			Env:         env(),
			Description: jsii.String("Liberation monetization (" + cfg.Env + "), generated from shared/manifest"),
		},
		Config: cfg,
	}), nil
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

// checkAssets names every function whose bootstrap `make build` has not produced, in one message.
func checkAssets(dir string) error {
	var missing []string
	for _, f := range m.Functions {
		if _, err := os.Stat(filepath.Join(dir, f.Name, "bootstrap")); err != nil {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no bootstrap under %s for %s: run `make build` (each needs functions/<name>/main.go)",
			dir, strings.Join(missing, ", "))
	}
	return nil
}
