package httpapi

import "context"

// Limits are a list route's ?limit= default and maximum, and how its last page is answered.
type Limits struct {
	Default, Max int
	// EmptyCursor answers "nextCursor": "" on the last page, for lists whose documented shape
	// always has the field (support's and licensing's); otherwise it is left out there.
	EmptyCursor bool
}

// ListPage is the one skeleton of a cursor-paginated GET. It reads ?limit= (1..Max; Default when
// absent; anything else is a 400 naming the range) and the opaque ?cursor=, asks read for that
// page, shows each item through view and answers 200 with {"<name>": [...], "nextCursor": "…"},
// nextCursor only while there is more (or always, with EmptyCursor). The route checks who may list before calling it and binds
// the caller (user, licence, period) into read, so a cursor cannot widen what it reads.
func ListPage[T, V any](ctx context.Context, r *Request, name string, lim Limits,
	read func(ctx context.Context, limit int32, cursor string) ([]T, string, error), view func(T) V) (Response, error) {
	limit, err := r.Limit(lim.Default, lim.Max)
	if err != nil {
		return Response{}, err
	}
	items, next, err := read(ctx, limit, r.Query("cursor"))
	if err != nil {
		return Response{}, err
	}
	views := make([]V, len(items))
	for i, it := range items {
		views[i] = view(it)
	}
	body := map[string]any{name: views}
	if next != "" || lim.EmptyCursor {
		body["nextCursor"] = next
	}
	return OK(body), nil
}
