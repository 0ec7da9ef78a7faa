package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/seed"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// runSeed is `make seed`: infra/local/seed.Run against the running `make dev` — its gateway, its
// token key, its webhook secret and Stripe stand-in (dev.env), and its table on moto for the 90
// days of metrics history. Idempotent: a second run changes nothing.
func (c *cli) runSeed(ctx context.Context, args []string) error {
	fs := c.flags("seed")
	courses := fs.Int("courses", 50, "published courses to have")
	learners := fs.Int("learners", 12, "learners")
	days := fs.Int("history-days", seed.DefaultHistoryDays, "days of metrics history, today's included")
	if err := parse(fs, args); err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	state := c.stateDir(root)
	getenv := c.devGetenv(state)
	key, err := authlocal.LoadOrCreateKey(filepath.Join(state, "jwt"))
	if err != nil {
		return err
	}
	cfg := seed.Config{BaseURL: baseURL(getenv), Auth: authlocal.FromEnv(key, getenv),
		WebhookSecret: or(getenv(manifest.EnvWebhookSecret), defaultWebhookSecret), StripeStateURL: getenv(envStripeStateURL),
		Courses: *courses, Learners: *learners, HistoryDays: *days, Out: c.stdout}
	// The history is written straight into dev's table on moto (both recorded in dev.env by dev).
	if moto, table := getenv("MOTO_URL"), getenv(manifest.EnvTable); moto != "" && table != "" {
		db := dynamodb.New(dynamodb.Options{Region: or(getenv("AWS_REGION"), "us-east-1"), BaseEndpoint: aws.String(moto),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "moto"}, nil
			})})
		cfg.Store = store.New(db, table, clock.System{}, nil)
	}
	if _, err := seed.Run(ctx, cfg); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}
