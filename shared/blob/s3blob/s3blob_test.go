//go:build integration

package s3blob_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/blob/blobtest"
	"github.com/liberation/monetization/shared/blob/s3blob"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// The bucket on moto, with versioning on as the system's bucket has it (infra/cdk), meets the
// versioned store's contract: old versions stay until purged, a purge removes exactly the key's
// non-current versions and delete markers, and a delete plus a purge leave nothing.
func TestBucketVersionsContract(t *testing.T) {
	ctx := context.Background()
	env := localtest.New(t)
	endpoint := env.Runtime.Endpoint("S3")
	c := s3.NewFromConfig(env.Runtime.AWS, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = endpoint, endpoint != nil })
	b := &s3blob.Bucket{Client: c, Presign: s3.NewPresignClient(c), Name: env.Resources.Bucket}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.Name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	blobtest.Contract(t, b, "receipts/")

	// Read back from S3 itself: only the sibling's current version is left under the prefix.
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b.Name), Prefix: aws.String("receipts/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DeleteMarkers) != 0 || len(out.Versions) != 1 || aws.ToString(out.Versions[0].Key) != "receipts/u1/pay_1.pdf.old" ||
		!aws.ToBool(out.Versions[0].IsLatest) {
		t.Fatalf("left: %d versions, %d markers", len(out.Versions), len(out.DeleteMarkers))
	}
}
