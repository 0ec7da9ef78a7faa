// Package privacytest helps the areas test their personal-data exporters and erasers
// (privacy_export_test.go, privacy_erase_test.go in each area): seed items with the area's keys,
// read an exporter to its end page by page and check what the export holds and leaves out, run an
// eraser to its end as the host does, and read the whole table to compare before and after.
package privacytest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// Item is an item of the table: the key, the entity type and its attributes.
func Item(k store.Key, typ string, attrs map[string]any) map[string]any {
	out := map[string]any{"PK": k.PK, "SK": k.SK, "type": typ, "version": 1}
	for a, v := range attrs {
		out[a] = v
	}
	return out
}

// Seed writes items as they are (a test's set-up).
func Seed(t testing.TB, s *store.Store, items ...map[string]any) {
	t.Helper()
	for _, it := range items {
		if err := s.Put(context.Background(), it, "", nil, nil); err != nil {
			t.Fatalf("seed %v/%v: %v", it["PK"], it["SK"], err)
		}
	}
}

// All reads exp for subj to its end in pages of limit, checking each page's size and that the
// pages end; it returns the items and the files named.
func All(t testing.TB, exp privacy.Exporter, subj privacy.Subject, limit int) ([]privacy.Item, []string) {
	t.Helper()
	var items []privacy.Item
	var files []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("the exporter never ends")
		}
		p, err := exp(context.Background(), subj, cursor, limit)
		if err != nil {
			t.Fatalf("export page %d: %v", pages, err)
		}
		items = append(items, p.Items...)
		files = append(files, p.Files...)
		if p.Next == "" {
			return items, files
		}
		cursor = p.Next
	}
}

// Count counts the items of each type.
func Count(items []privacy.Item) map[string]int {
	out := map[string]int{}
	for _, it := range items {
		out[it.Type]++
	}
	return out
}

// JSON is the items as the export's document encodes them.
func JSON(t testing.TB, items []privacy.Item) string {
	t.Helper()
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Holds fails the test unless the encoded items contain every one of must and none of never.
func Holds(t testing.TB, items []privacy.Item, must, never []string) {
	t.Helper()
	js := JSON(t, items)
	for _, s := range must {
		if !strings.Contains(js, s) {
			t.Errorf("the export lacks %q", s)
		}
	}
	for _, s := range never {
		if strings.Contains(js, s) {
			t.Errorf("the export holds %q", s)
		}
	}
}

// Unzip returns every file of an export's zip by name (the unit tests' and the end-to-end test's
// reading of what a person downloads).
func Unzip(t testing.TB, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// Run runs an eraser from cursor to its end a step at a time, as the erasure host does. It returns
// the records changed and the holds, and on an error the error with the last cursor a step
// returned: where the host resumes.
func Run(ctx context.Context, er privacy.Eraser, s privacy.ErasureSubject, cursor string) (changed int, holds []privacy.Hold, last string, err error) {
	for steps := 0; steps < 1000; steps++ {
		st, err := er(ctx, s, cursor)
		if err != nil {
			return changed, holds, cursor, err
		}
		changed += st.Changed
		holds = append(holds, st.Holds...)
		if st.Next == "" {
			return changed, holds, "", nil
		}
		cursor = st.Next
	}
	return changed, holds, cursor, errors.New("privacytest: the eraser did not finish in 1000 steps")
}

// RunToEnd is Run failing the test on an error.
func RunToEnd(t testing.TB, er privacy.Eraser, s privacy.ErasureSubject, cursor string) (int, []privacy.Hold) {
	t.Helper()
	changed, holds, last, err := Run(context.Background(), er, s, cursor)
	if err != nil {
		t.Fatalf("erasure step from cursor %q: %v", last, err)
	}
	return changed, holds
}
