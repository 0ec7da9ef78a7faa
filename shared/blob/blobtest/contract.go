package blobtest

import (
	"context"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
)

// VersionedStore is a store on a versioned bucket that deletes and purges.
type VersionedStore interface {
	blob.Store
	blob.Deleter
	blob.VersionPurger
}

// Contract runs the cases every versioned store meets: the fake here in process and s3blob on moto
// with versioning on (shared/blob/s3blob), so the unit tests' fake answers as the bucket does.
// prefix keeps the keys of one run apart.
func Contract(t *testing.T, s VersionedStore, prefix string) {
	t.Helper()
	ctx := context.Background()
	put := func(key, body string) {
		t.Helper()
		if err := s.Put(ctx, blob.Object{Key: key, ContentType: "application/pdf"}, []byte(body)); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	purge := func(key string, want int) {
		t.Helper()
		n, err := s.PurgeOldVersions(ctx, key)
		if err != nil || n != want {
			t.Fatalf("purge %s: %d deleted (%v), want %d", key, n, err, want)
		}
	}
	get := func(key, want string) {
		t.Helper()
		body, err := s.Get(ctx, key)
		if want == "" {
			if !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("get %s: %q %v, want NotFound", key, body, err)
			}
			return
		}
		if err != nil || string(body) != want {
			t.Fatalf("get %s: %q %v, want %q", key, body, err, want)
		}
	}
	a, sibling := prefix+"u1/pay_1.pdf", prefix+"u1/pay_1.pdf.old"

	// An overwritten object keeps its first version until purged; the current one stays.
	put(a, "first")
	put(a, "second")
	put(sibling, "s1")
	put(sibling, "s2")
	get(a, "second")
	purge(a, 1)
	get(a, "second")
	purge(a, 0) // nothing more to remove: a second purge changes nothing
	// Exactly the key: the sibling the key is a prefix of keeps its old version.
	purge(sibling, 1)

	// Deleted: a delete marker hides the object; purging removes the marker and the old version,
	// and the object does not come back.
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Exists(ctx, a); err != nil || ok {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
	purge(a, 2) // "second" and the marker
	get(a, "")
	purge(a, 0)

	// Deleting a key that has no object is no error. S3 leaves a delete marker (the fake too), which
	// the purge removes; moto adds none. Either way nothing is left.
	none := prefix + "u1/never.pdf"
	if err := s.Delete(ctx, none); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeOldVersions(ctx, none); err != nil || n > 1 {
		t.Fatalf("purge %s: %d deleted (%v), want at most the marker", none, n, err)
	}
	purge(none, 0)
	get(none, "")
}
