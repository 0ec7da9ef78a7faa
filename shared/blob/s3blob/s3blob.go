// Package s3blob stores blobs in the system's S3 bucket (BUCKET_NAME).
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/platform"
)

// Bucket is a blob.Store on one S3 bucket.
type Bucket struct {
	Client  *s3.Client
	Presign *s3.PresignClient
	Name    string
}

var (
	_ blob.Store         = (*Bucket)(nil)
	_ blob.Deleter       = (*Bucket)(nil)
	_ blob.VersionPurger = (*Bucket)(nil)
)

// Provide gives the function the bucket (one S3 client per process). Locally (an endpoint override
// points at moto) S3 needs path-style addressing.
func Provide(rt *platform.Runtime) error {
	rt.Provide(platform.CapBlobs, platform.Shared(rt, "s3-bucket", func() blob.Store {
		endpoint := rt.Endpoint("S3")
		c := s3.NewFromConfig(rt.AWS, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = endpoint, endpoint != nil })
		return &Bucket{Client: c, Presign: s3.NewPresignClient(c), Name: rt.Config.BucketName}
	}))
	return nil
}

// Put implements blob.Store.
func (b *Bucket) Put(ctx context.Context, o blob.Object, body []byte) error {
	in := &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(o.Key), Body: bytes.NewReader(body),
		ContentType: aws.String(o.ContentType)}
	if o.ContentDisposition != "" {
		in.ContentDisposition = aws.String(o.ContentDisposition)
	}
	if _, err := b.Client.PutObject(ctx, in); err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "store object")
	}
	return nil
}

// Get implements blob.Store.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, apperr.New(apperr.NotFound, "object not found")
		}
		return nil, apperr.Wrap(err, apperr.Unavailable, "read object")
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "read object body")
	}
	return body, nil
}

// Exists implements blob.Store.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err == nil {
		return true, nil
	}
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return false, nil
	}
	return false, apperr.Wrap(err, apperr.Unavailable, "read object metadata")
}

// PresignGet implements blob.Store.
func (b *Bucket) PresignGet(ctx context.Context, o blob.Object, ttl time.Duration) (string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(o.Key)}
	if o.ContentType != "" {
		in.ResponseContentType = aws.String(o.ContentType)
	}
	if o.ContentDisposition != "" {
		in.ResponseContentDisposition = aws.String(o.ContentDisposition)
	}
	req, err := b.Presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "presign download")
	}
	return req.URL, nil
}

// PresignPut implements blob.Store.
func (b *Bucket) PresignPut(ctx context.Context, o blob.Object, size int64, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(o.Key),
		ContentType: aws.String(o.ContentType), ContentLength: aws.Int64(size)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "presign upload")
	}
	return req.URL, nil
}

// Delete implements blob.Deleter (s3:DeleteObject). In a versioned bucket it adds a delete marker
// and keeps the earlier versions: PurgeOldVersions removes them.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)}); err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "delete object")
	}
	return nil
}

// PurgeOldVersions implements blob.VersionPurger: it lists the versions under key
// (s3:ListBucketVersions with the key as prefix, so the grant's s3:prefix condition holds), keeps
// those of exactly key, and deletes each non-current version, then each delete marker, by version id
// (s3:DeleteObjectVersion). Old versions go before the markers: were it interrupted between the
// two, no older version would have become current again. Run again, it finds nothing left.
func (b *Bucket) PurgeOldVersions(ctx context.Context, key string) (int, error) {
	var old, markers []string
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(b.Name), Prefix: aws.String(key)}
	for {
		out, err := b.Client.ListObjectVersions(ctx, in)
		if err != nil {
			return 0, apperr.Wrap(err, apperr.Unavailable, "list object versions")
		}
		for _, v := range out.Versions {
			if aws.ToString(v.Key) == key && !aws.ToBool(v.IsLatest) && v.VersionId != nil {
				old = append(old, *v.VersionId)
			}
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToString(m.Key) == key && m.VersionId != nil {
				markers = append(markers, *m.VersionId)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	n := 0
	for _, id := range append(old, markers...) {
		if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key),
			VersionId: aws.String(id)}); err != nil {
			return n, apperr.Wrap(err, apperr.Unavailable, "delete object version")
		}
		n++
	}
	return n, nil
}
