//go:build integration

package platform_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/platform"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// The hand-written GetParameter call reads a SecureString from SSM (moto) the way the SDK client
// would, caches it, and reports a missing parameter as Unavailable.
func TestSecretsFromSSM(t *testing.T) {
	ctx := context.Background()
	env := localtest.New(t)
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := "/liberation/test/" + t.Name()
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name),
		Value: aws.String("sk_test_from_ssm"), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SECRET_PARAM": name, "MISSING_PARAM": "/liberation/test/none"}
	getenv := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return env.Getenv(k)
	}
	s := platform.NewSecrets(getenv, platform.AWSConfig(getenv, "us-east-1"))
	for i := 0; i < 2; i++ { // the second read comes from the cache
		v, err := s.Get(ctx, "SECRET_UNSET", "SECRET_PARAM")
		if err != nil || v != "sk_test_from_ssm" {
			t.Fatalf("read %d: %q %v", i, v, err)
		}
	}
	if _, err := s.Get(ctx, "SECRET_UNSET", "MISSING_PARAM"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("missing parameter: %v", err)
	}
	vars["SECRET_SET"] = "from-env"
	if v, _ := s.Get(ctx, "SECRET_SET", "SECRET_PARAM"); v != "from-env" {
		t.Fatalf("an environment value wins: %q", v)
	}
	if _, err := s.Get(ctx, "NONE", "NONE_PARAM"); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("neither set: %v", err)
	}
}
