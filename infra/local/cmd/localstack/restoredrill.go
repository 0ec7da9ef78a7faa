package main

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/infra/local/restoredrill"
	m "github.com/liberation/monetization/shared/manifest"
)

// runRestoreDrill is `make restore-drill`: against the running `make dev` (its moto and table, from
// dev.env) it exports the table to a file, restores the file into a new table, verifies the
// areas' invariants and the per-type item counts on it and prints the report (docs/runbooks/
// restore.md). A difference exits 1. The original table is only read; the restored one is left in
// moto for a look (it goes when make dev stops).
func (c *cli) runRestoreDrill(ctx context.Context, args []string) error {
	fs := c.flags("restore-drill")
	target := fs.String("target", "", "name of the new table (default <table>-restore-<unix time>)")
	if err := parse(fs, args); err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	state := c.stateDir(root)
	getenv := c.devGetenv(state)
	moto, table := getenv("MOTO_URL"), getenv(m.EnvTable)
	if moto == "" || table == "" {
		return errors.New("no running stack found (start `make dev` first, then `make seed`)")
	}
	db := dynamodb.New(dynamodb.Options{Region: or(getenv("AWS_REGION"), "us-east-1"), BaseEndpoint: aws.String(moto),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "moto"}, nil
		})})
	rep, err := restoredrill.Run(ctx, db, restoredrill.Options{Source: table, Target: *target, Dir: filepath.Join(state, "restore-drill")})
	if err != nil {
		return err
	}
	rep.Write(c.stdout)
	if !rep.OK() {
		return errReported
	}
	return nil
}
