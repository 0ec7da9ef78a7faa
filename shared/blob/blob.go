// Package blob is object storage as the areas see it (receipt PDFs, course content). The S3
// implementation is blob/s3blob, linked only by functions whose manifest entry declares Bucket.
package blob

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/platform"
)

// Object describes how an object is stored and served.
type Object struct {
	Key                string
	ContentType        string
	ContentDisposition string // e.g. `inline; filename="receipt.pdf"`
}

// Store puts objects and hands out short-lived links to them.
type Store interface {
	// Put writes the object (overwriting any object at the key).
	Put(ctx context.Context, o Object, body []byte) error
	// Get reads a whole object (small objects only: it is held in memory). A missing object is an
	// apperr.NotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Exists reports whether an object is at the key.
	Exists(ctx context.Context, key string) (bool, error)
	// PresignGet returns a URL that downloads the object for ttl, served with o's content type and
	// disposition.
	PresignGet(ctx context.Context, o Object, ttl time.Duration) (string, error)
	// PresignPut returns a URL that uploads exactly size bytes of o.ContentType to o.Key for ttl
	// (the content type and length are part of the signature).
	PresignPut(ctx context.Context, o Object, size int64, ttl time.Duration) (string, error)
}

// From returns the function's blob store (its manifest entry must declare Bucket).
func From(rt *platform.Runtime) (Store, error) {
	return platform.Capability[Store](rt, platform.CapBlobs)
}

// Deleter is a store that removes objects (s3blob.Bucket). In a versioned bucket a delete leaves a
// delete marker and the earlier versions behind: pair it with VersionPurger to remove the object
// for good.
type Deleter interface {
	// Delete removes the object at key (no error when there is none).
	Delete(ctx context.Context, key string) error
}

// VersionPurger is a store on a versioned bucket that can remove an object's history: what an
// erasure needs, since overwriting or deleting an object keeps its earlier versions (s3blob.Bucket;
// blobtest.Versioned in unit tests).
type VersionPurger interface {
	// PurgeOldVersions deletes every non-current version and every delete marker (the current one
	// included) of exactly key — never of another key that key is a prefix of — and returns how many
	// it deleted. The current version, if any, stays.
	PurgeOldVersions(ctx context.Context, key string) (int, error)
}
