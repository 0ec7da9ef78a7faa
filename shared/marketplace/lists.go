package marketplace

import (
	"context"
	"maps"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/store"
)

// pageOf binds one of Courses' lists to its owner (the caller, a course) as httpapi.ListPage's
// read: a cursor can only page through the list it was minted for.
func pageOf[T any](list func(ctx context.Context, owner string, limit int32, cursor string) (store.Page[T], error),
	owner string) func(ctx context.Context, limit int32, cursor string) ([]T, string, error) {
	return func(ctx context.Context, limit int32, cursor string) ([]T, string, error) {
		page, err := list(ctx, owner, limit, cursor)
		return page.Items, page.NextCursor, err
	}
}

// withFields adds a list's other fields (the reviews' rating) to an httpapi.ListPage answer.
func withFields(res httpapi.Response, fields map[string]any) (httpapi.Response, error) {
	body, ok := res.Body.(map[string]any)
	if !ok {
		return httpapi.Response{}, apperr.New(apperr.Internal, "a list answer is not an object")
	}
	maps.Copy(body, fields)
	return res, nil
}
