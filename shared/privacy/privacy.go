// Package privacy is the personal-data frame (issue 18, docs/privacy.md, decision 0084): every area
// registers an exporter that answers, page by page, with its items about one person, and the
// export host (build-personal-export) runs them into one machine-readable JSON document, zipped with
// the person's receipt and credit-note PDFs, stored under exports/ and linked by e-mail for 24 h.
//
// The frame imports no area and lists no item type: an area lists "build-personal-export" in its
// manifest Hooks and exports BuildPersonalExportHooks, which calls Registry.RegisterExporter.
package privacy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Subject is the person an export is about: the caller's user id and their verified address
// ("" when the token carried none).
type Subject struct {
	UserID string
	Email  string
}

// Item is one record about the subject, as the owning area shows it: its entity type and its
// attributes (keys, versions and other people's personal data left out by the area).
type Item struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// Page is one page of an area's answer.
type Page struct {
	Items []Item
	// Files are bucket keys of the subject's documents (receipt and credit-note PDFs) to put in the
	// zip; a key with no object is skipped.
	Files []string
	// Next is the cursor of the next page; "" when the area has nothing more.
	Next string
}

// Exporter returns one page (at most limit items, give or take the items one record brings along)
// of an area's items about s, from cursor ("" for the first page).
type Exporter func(ctx context.Context, s Subject, cursor string, limit int) (Page, error)

// Registry holds the areas' exporters, in registration order.
type Registry struct {
	areas      []string
	exporters  map[string]Exporter
	eraseAreas []string
	erasers    map[string]Eraser
}

// RegisterExporter adds an area's exporter. An area registers once; a second registration is a
// wiring error reported when the host is built.
func (r *Registry) RegisterExporter(area string, fn Exporter) {
	if r.exporters == nil {
		r.exporters = map[string]Exporter{}
	}
	if area == "" || fn == nil {
		panic("privacy: an exporter needs an area and a function")
	}
	if _, dup := r.exporters[area]; dup {
		panic(fmt.Sprintf("privacy: two exporters for area %q", area))
	}
	r.areas = append(r.areas, area)
	r.exporters[area] = fn
}

// Areas lists the areas with an exporter, in registration order.
func (r *Registry) Areas() []string { return append([]string(nil), r.areas...) }

// Exporter returns the area's exporter.
func (r *Registry) Exporter(area string) (Exporter, bool) {
	fn, ok := r.exporters[area]
	return fn, ok
}

// Source is one kind of record an area exports: how to fetch a page of it and how to show a row.
type Source struct {
	// Type names the records in the export ("payment", "ticket").
	Type string
	// Fetch returns a page of raw rows from cursor and the next cursor ("" at the end).
	Fetch func(ctx context.Context, cursor string, limit int) (rows []map[string]any, next string, err error)
	// Omit lists attributes left out of every row besides the table's keys and bookkeeping
	// (secrets, other people's data, internal claims).
	Omit []string
	// Expand, when set, turns one row into the items it stands for (a ticket and its messages) and
	// may drop it (return nil): it receives the raw row and the row cleaned (Omit applied).
	Expand func(ctx context.Context, row, clean map[string]any) ([]Item, error)
	// Files, when set, names the bucket keys of the row's documents.
	Files func(row map[string]any) []string
}

// bookkeeping is left out of every row: the table's keys, TTLs, write bookkeeping and the Stripe
// event that last wrote the item say nothing about the person (and an event id is the platform's
// record, which may name the event of another person's payment).
var bookkeeping = []string{"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "expiresAt", "version", "writeId", "eventId"}

// Clean returns row without the bookkeeping attributes and omit.
func Clean(row map[string]any, omit ...string) map[string]any {
	out := make(map[string]any, len(row))
	for k, v := range row {
		out[k] = v
	}
	for _, k := range bookkeeping {
		delete(out, k)
	}
	for _, k := range omit {
		delete(out, k)
	}
	return out
}

// Sources is an Exporter over an area's sources, taken one after the other: its cursor is the
// index of the source being read and that source's own cursor.
func Sources(list func(s Subject) []Source) Exporter {
	return func(ctx context.Context, s Subject, cursor string, limit int) (Page, error) {
		srcs := list(s)
		i, inner, err := splitCursor(cursor)
		if err != nil {
			return Page{}, err
		}
		var page Page
		for i < len(srcs) && len(page.Items) < limit {
			src := srcs[i]
			rows, next, err := src.Fetch(ctx, inner, limit-len(page.Items))
			if err != nil {
				return Page{}, fmt.Errorf("%s: %w", src.Type, err)
			}
			for _, row := range rows {
				if src.Files != nil {
					page.Files = append(page.Files, src.Files(row)...)
				}
				clean := Clean(row, src.Omit...)
				if src.Expand == nil {
					page.Items = append(page.Items, Item{Type: src.Type, Data: clean})
					continue
				}
				items, err := src.Expand(ctx, row, clean)
				if err != nil {
					return Page{}, fmt.Errorf("%s: %w", src.Type, err)
				}
				page.Items = append(page.Items, items...)
			}
			if next != "" {
				page.Next = strconv.Itoa(i) + "|" + next
				return page, nil
			}
			i, inner = i+1, ""
		}
		if i < len(srcs) {
			page.Next = strconv.Itoa(i) + "|"
		}
		return page, nil
	}
}

func splitCursor(c string) (int, string, error) {
	if c == "" {
		return 0, "", nil
	}
	n, rest, ok := strings.Cut(c, "|")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 0 {
		return 0, "", fmt.Errorf("privacy: bad cursor")
	}
	return i, rest, nil
}

// Str reads a string attribute of a row ("" when absent or not a string).
func Str(row map[string]any, name string) string {
	s, _ := row[name].(string)
	return s
}

// Without returns the source with more attributes left out.
func (s Source) Without(names ...string) Source {
	s.Omit = append(append([]string(nil), s.Omit...), names...)
	return s
}

// WithFiles returns the source naming each row's documents with files.
func (s Source) WithFiles(files func(row map[string]any) []string) Source {
	s.Files = files
	return s
}

// Expanding returns the source with each row expanded by fn.
func (s Source) Expanding(fn func(ctx context.Context, row, clean map[string]any) ([]Item, error)) Source {
	s.Expand = fn
	return s
}
