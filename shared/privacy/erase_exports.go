package privacy

import (
	"context"
	"encoding/json"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/store"
)

// ObjectRemover removes objects with every version the versioned bucket keeps of them: a delete
// (which leaves a delete marker and the earlier versions) then a purge of the key's history.
type ObjectRemover interface {
	blob.Deleter
	blob.VersionPurger
}

// FrameArea is the name the privacy frame's own eraser registers under.
const FrameArea = "privacy"

// ExportsEraser is the privacy frame's own eraser: the person's exports hold a copy of everything
// (their zips and parts under exports/), so each export's objects, every version, then its item are
// removed. An export still being built when the erasure reaches it loses its item: the build's next
// run finds none and stops (a part it wrote meanwhile goes with the bucket's 7-day rule).
func ExportsEraser(rd Reader, repo Repo, objs ObjectRemover) Eraser {
	return Phases(EachRow(func(s ErasureSubject) Source {
		return rd.Partition("export", store.UserPK(s.UserID), store.ExportPrefix)
	}, func(ctx context.Context, s ErasureSubject, row map[string]any) (RowResult, error) {
		e := Export{ID: Str(row, "id"), UserID: s.UserID}
		parts := 0
		if n, ok := row["part"].(json.Number); ok {
			if v, err := n.Int64(); err == nil {
				parts = int(v)
			}
		}
		keys := []string{e.ZipKey()}
		for n := 0; n < parts; n++ {
			keys = append(keys, e.PartKey(n))
		}
		for _, k := range keys {
			if err := objs.Delete(ctx, k); err != nil {
				return RowResult{}, err
			}
			if _, err := objs.PurgeOldVersions(ctx, k); err != nil {
				return RowResult{}, err
			}
		}
		if err := repo.deleteExport(ctx, s.UserID, e.ID); err != nil {
			return RowResult{}, err
		}
		return RowResult{Changed: true}, nil
	}))
}
