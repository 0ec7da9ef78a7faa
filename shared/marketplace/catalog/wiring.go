package catalog

import (
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// newWiring: the catalog's functions build from their runtime only what each uses (decision 0074).
func newWiring(rt *platform.Runtime) (*platform.Runtime, error) { return rt, nil }

func builder(rt *platform.Runtime) (*Builder, error) {
	blobs, err := blob.From(rt)
	if err != nil {
		return nil, err
	}
	return &Builder{Store: store.Open(rt), Blobs: blobs, Clock: rt.Clock}, nil
}
