package httpapi_test

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
)

func TestListPage(t *testing.T) {
	lim := httpapi.Limits{Default: 2, Max: 3}
	var gotLimit int32
	var gotCursor string
	read := func(_ context.Context, limit int32, cursor string) ([]int, string, error) {
		gotLimit, gotCursor = limit, cursor
		if cursor == "broken" {
			return nil, "", apperr.New(apperr.Unavailable, "read failed")
		}
		if cursor == "" {
			return []int{1, 2}, "c2", nil
		}
		return []int{3}, "", nil
	}
	view := func(n int) string { return "#" + strconv.Itoa(n) }
	list := func(q map[string]string) (httpapi.Response, error) {
		r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{QueryStringParameters: q}}
		return httpapi.ListPage(context.Background(), r, "things", lim, read, view)
	}

	res, err := list(nil)
	if err != nil || res.Status != http.StatusOK || gotLimit != 2 || gotCursor != "" {
		t.Fatalf("first page: %+v %v limit=%d cursor=%q", res, err, gotLimit, gotCursor)
	}
	if want := map[string]any{"things": []string{"#1", "#2"}, "nextCursor": "c2"}; !reflect.DeepEqual(res.Body, want) {
		t.Fatalf("first page body = %#v, want %#v", res.Body, want)
	}
	res, err = list(map[string]string{"limit": "3", "cursor": "c2"})
	if err != nil || gotLimit != 3 || gotCursor != "c2" {
		t.Fatalf("second page: %v limit=%d cursor=%q", err, gotLimit, gotCursor)
	}
	if want := map[string]any{"things": []string{"#3"}}; !reflect.DeepEqual(res.Body, want) {
		t.Fatalf("last page has no nextCursor: %#v", res.Body)
	}
	gotLimit = -1
	for _, bad := range []string{"0", "4", "x", ""} {
		if _, err := list(map[string]string{"limit": bad}); !apperr.Is(err, apperr.Invalid) || gotLimit != -1 {
			t.Fatalf("limit %q: want 400 before any read, got %v (read with %d)", bad, err, gotLimit)
		}
	}
	if _, err := list(map[string]string{"cursor": "broken"}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("a failed read is the answer: %v", err)
	}
	lim.EmptyCursor = true
	if res, _ = list(map[string]string{"cursor": "c2"}); !reflect.DeepEqual(res.Body, map[string]any{"things": []string{"#3"}, "nextCursor": ""}) {
		t.Fatalf("EmptyCursor: the last page has nextCursor \"\": %#v", res.Body)
	}
	res, _ = list(map[string]string{"cursor": "c2", "limit": "1"})
	if things := res.Body.(map[string]any)["things"].([]string); len(things) != 1 {
		t.Fatalf("views: %v", things)
	}
}
