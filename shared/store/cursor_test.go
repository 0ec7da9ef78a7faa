package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

// The cursor secret is resolved on first use, once; a missing or short secret is an internal
// error, never a cursor signed with nothing.
func TestLazyCursorSecret(t *testing.T) {
	ctx := context.Background()
	lek := map[string]types.AttributeValue{"PK": store.S("USER#u1"), "SK": store.S("PAY#1")}
	resolved := 0
	c := store.NewLazyCursorCodec(func(context.Context) ([]byte, error) {
		resolved++
		return []byte("a-secret-of-at-least-16-bytes"), nil
	})
	cur, err := c.Encode(ctx, "payments#u1", lek)
	if err != nil || cur == "" {
		t.Fatalf("encode: %q %v", cur, err)
	}
	back, err := c.Decode(ctx, "payments#u1", cur)
	if err != nil || back["SK"].(*types.AttributeValueMemberS).Value != "PAY#1" {
		t.Fatalf("decode: %v %v", back, err)
	}
	// Asked at each use: platform.Secrets caches, and the local IAM check sees every read.
	if resolved != 2 {
		t.Fatalf("secret resolved %d times, want at each of the 2 uses", resolved)
	}
	// Another secret does not accept it.
	other := store.NewCursorCodec([]byte("another-secret-of-16-bytes"))
	if _, err := other.Decode(ctx, "payments#u1", cur); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a cursor of another secret: %v", err)
	}
	for name, c := range map[string]*store.CursorCodec{
		"short":     store.NewLazyCursorCodec(func(context.Context) ([]byte, error) { return []byte("short"), nil }),
		"failing":   store.NewLazyCursorCodec(func(context.Context) ([]byte, error) { return nil, errors.New("ssm down") }),
		"unset":     store.NewLazyCursorCodec(nil),
		"no secret": store.NewCursorCodec(nil),
	} {
		if _, err := c.Encode(ctx, "s", lek); err == nil {
			t.Errorf("%s secret: encoded", name)
		}
		if _, err := c.Decode(ctx, "s", cur); err == nil || apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s secret: decode %v, want a server error", name, err)
		}
	}
	// No key, no cursor; no cursor, the first page.
	if s, err := c.Encode(ctx, "s", nil); s != "" || err != nil {
		t.Fatalf("encode of no key: %q %v", s, err)
	}
	if k, err := c.Decode(ctx, "s", ""); k != nil || err != nil {
		t.Fatalf("decode of no cursor: %v %v", k, err)
	}
	for _, bad := range []string{"nodot", strings.Repeat("a", 2050) + ".x", "!!.!!", cur[:len(cur)-2]} {
		if _, err := c.Decode(ctx, "payments#u1", bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("cursor %.20q: %v, want Invalid", bad, err)
		}
	}
}

// listed is an item of a GSI1 list.
type listed struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	Name   string `dynamodbav:"name"`
}

// NewestPage lists a GSI1 partition newest first, page by page, with cursors bound to the list.
func TestNewestPage(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	var want []string
	for i, n := range []string{"a", "b", "c", "d", "e"} {
		it := listed{PK: "THING#" + n, SK: "META", GSI1PK: "LIST#1", GSI1SK: fmt.Sprintf("2026-03-%02d#%s", i+1, n), Name: n}
		if err := s.Put(ctx, it, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		want = append([]string{n}, want...)
	}
	if err := s.Put(ctx, listed{PK: "THING#z", SK: "META", GSI1PK: "LIST#2", GSI1SK: "2026-03-09#z", Name: "z"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatal("too many pages")
		}
		page, err := store.NewestPage[listed](ctx, s, "list#1", "LIST#1", 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			got = append(got, it.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		if _, err := store.NewestPage[listed](ctx, s, "list#2", "LIST#2", 2, cursor); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a cursor of another list: %v", err)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v (newest first)", got, want)
	}
	empty, err := store.NewestPage[listed](ctx, s, "list#3", "LIST#3", 2, "")
	if err != nil || empty.Items == nil || len(empty.Items) != 0 || empty.NextCursor != "" {
		t.Fatalf("an empty list: %+v %v (want [] and no cursor)", empty, err)
	}
}
