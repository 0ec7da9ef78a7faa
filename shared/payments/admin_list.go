package payments

import (
	"context"
	"strings"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// maxUserID is the longest user id a path may name (as POST /admin/users/{userId}/erase).
const maxUserID = 128

// validPathUserID is the rule of POST /admin/users/{userId}/erase for a user id in an admin path:
// 1–128 bytes, no '#' (the key separator), '/' or control character.
func validPathUserID(s string) bool {
	return s != "" && len(s) <= maxUserID && !strings.ContainsFunc(s, func(r rune) bool { return r == '#' || r == '/' || r < 0x20 })
}

func wireListUserPayments(rt *platform.Runtime) (httpapi.Lambda, error) {
	return HandleListUserPayments(rt.Fn, repoOf(rt)), nil
}

// HandleListUserPayments serves GET /admin/users/{userId}/payments (admin only): that user's
// payments, newest first, in the shape and with the cursor of GET /payments (the same read: the
// cursor is bound to the user, so it cannot page another user's list). A user without payments —
// or unknown — gets an empty list.
func HandleListUserPayments(fn manifest.Function, payments PaymentReader) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		userID := r.PathParam("userId")
		if !validPathUserID(userID) {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "userId is malformed")
		}
		return httpapi.ListPage(ctx, r, "payments", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Payment, string, error) {
				page, err := payments.ListPayments(ctx, userID, limit, cursor)
				return page.Items, page.NextCursor, err
			}, paymentView)
	})
}
