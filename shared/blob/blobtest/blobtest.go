// Package blobtest is an in-memory versioned bucket for unit tests: every Put adds a version, a
// Delete adds a delete marker, and the old versions stay until PurgeOldVersions removes them, as in
// an S3 bucket with versioning on (the system's bucket; s3blob's moto test checks the same rules).
package blobtest

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
)

// Version is one version of a key: an object's bytes, or a delete marker.
type Version struct {
	ID     string
	Body   []byte
	Object blob.Object
	Marker bool // a delete marker
}

// Versioned is a versioned bucket in memory. Fail, when set, is asked before every operation
// ("put", "delete", "purge", "get", "exists") and fails it with the error it returns.
type Versioned struct {
	mu       sync.Mutex
	versions map[string][]Version // oldest first; the last is the current one
	next     int
	Fail     func(op, key string) error
}

var (
	_ blob.Store         = (*Versioned)(nil)
	_ blob.Deleter       = (*Versioned)(nil)
	_ blob.VersionPurger = (*Versioned)(nil)
)

// New returns an empty bucket.
func New() *Versioned { return &Versioned{versions: map[string][]Version{}} }

func (v *Versioned) fail(op, key string) error {
	if v.Fail == nil {
		return nil
	}
	return v.Fail(op, key)
}

func (v *Versioned) add(key string, ver Version) {
	v.next++
	ver.ID = "v" + strconv.Itoa(v.next)
	v.versions[key] = append(v.versions[key], ver)
}

// Put implements blob.Store: a new current version.
func (v *Versioned) Put(_ context.Context, o blob.Object, body []byte) error {
	if err := v.fail("put", o.Key); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.add(o.Key, Version{Body: append([]byte(nil), body...), Object: o})
	return nil
}

// current is the key's current object (false when none, or a delete marker is current).
func (v *Versioned) current(key string) (Version, bool) {
	vs := v.versions[key]
	if len(vs) == 0 || vs[len(vs)-1].Marker {
		return Version{}, false
	}
	return vs[len(vs)-1], true
}

// Get implements blob.Store.
func (v *Versioned) Get(_ context.Context, key string) ([]byte, error) {
	if err := v.fail("get", key); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	cur, ok := v.current(key)
	if !ok {
		return nil, apperr.New(apperr.NotFound, "object not found")
	}
	return append([]byte(nil), cur.Body...), nil
}

// Exists implements blob.Store.
func (v *Versioned) Exists(_ context.Context, key string) (bool, error) {
	if err := v.fail("exists", key); err != nil {
		return false, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.current(key)
	return ok, nil
}

// PresignGet implements blob.Store with a fake URL.
func (v *Versioned) PresignGet(_ context.Context, o blob.Object, ttl time.Duration) (string, error) {
	return "https://blobtest.invalid/" + o.Key + "?ttl=" + ttl.String(), nil
}

// PresignPut implements blob.Store with a fake URL.
func (v *Versioned) PresignPut(_ context.Context, o blob.Object, size int64, ttl time.Duration) (string, error) {
	return "https://blobtest.invalid/" + o.Key + "?put&size=" + strconv.FormatInt(size, 10) + "&ttl=" + ttl.String(), nil
}

// Delete implements blob.Deleter: a delete marker becomes the current version (as S3 adds one
// even when the key has no object).
func (v *Versioned) Delete(_ context.Context, key string) error {
	if err := v.fail("delete", key); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.add(key, Version{Marker: true})
	return nil
}

// PurgeOldVersions implements blob.VersionPurger: every version but a current object goes.
func (v *Versioned) PurgeOldVersions(_ context.Context, key string) (int, error) {
	if err := v.fail("purge", key); err != nil {
		return 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	vs := v.versions[key]
	cur, ok := v.current(key)
	n := len(vs)
	if ok {
		v.versions[key] = []Version{cur}
		n--
	} else {
		delete(v.versions, key)
	}
	return n, nil
}

// Versions returns every version of key, oldest first (delete markers included).
func (v *Versioned) Versions(key string) []Version {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Version(nil), v.versions[key]...)
}

// Keys lists the keys with any version (a current object, an old version or a marker), sorted.
func (v *Versioned) Keys() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.versions))
	for k := range v.versions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Bodies returns the bytes of every stored version of every key (old ones included): what a test
// searches for personal data that must be gone.
func (v *Versioned) Bodies() map[string][][]byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string][][]byte{}
	for k, vs := range v.versions {
		for _, ver := range vs {
			if !ver.Marker {
				out[k] = append(out[k], append([]byte(nil), ver.Body...))
			}
		}
	}
	return out
}

// Clone returns a copy of the bucket (every version of every key), without Fail.
func (v *Versioned) Clone() *Versioned {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := &Versioned{versions: map[string][]Version{}, next: v.next}
	for k, vs := range v.versions {
		c.versions[k] = append([]Version(nil), vs...)
	}
	return c
}
