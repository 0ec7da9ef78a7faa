// Package erasehost builds the erasure host (erase-personal-data, docs/privacy.md "Erasure"): the
// personal-erasures queue's consumer running privacy.Runner over the erasers every area registers.
// It is its own package because the generator names every host's constructor NewHost and the
// privacy package already has the export host's.
package erasehost

import (
	"fmt"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/store"
)

// NewHost builds the host from the areas' hooks (each calls Registry.RegisterEraser); the frame's
// own eraser (the person's exports) runs last, after every area.
func NewHost(hooks ...privacy.Hooks) func(*platform.Runtime) (queue.Consumer, error) {
	return func(rt *platform.Runtime) (queue.Consumer, error) {
		reg := &privacy.Registry{}
		for _, h := range hooks {
			if err := h(rt, reg); err != nil {
				return nil, err
			}
		}
		s := store.Open(rt)
		blobs, err := blob.From(rt)
		if err != nil {
			return nil, err
		}
		remover, ok := blobs.(privacy.ObjectRemover)
		if !ok {
			return nil, fmt.Errorf("%s: the blob store cannot remove object versions", rt.Fn.Name)
		}
		repo := privacy.Repo{S: s}
		reg.RegisterEraser(privacy.FrameArea, privacy.ExportsEraser(privacy.Reader{S: s}, repo, remover))
		q, err := queue.From(rt)
		if err != nil {
			return nil, err
		}
		run := &privacy.Runner{Repo: repo, Registry: reg, Queue: q, Clock: rt.Clock}
		var r queue.Router
		r.On(privacy.MessageErase, run.Handle)
		return r.Consumer(rt.Log), nil
	}
}
