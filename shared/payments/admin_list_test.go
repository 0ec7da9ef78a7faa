package payments

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/manifest"
)

// adminListRequest is GET /admin/users/{userId}/payments as API Gateway delivers it for sub, with
// the admin group when admin.
func adminListRequest(sub string, admin bool, userID string, query map[string]string) events.APIGatewayV2HTTPRequest {
	fn := manifest.MustByName("list-user-payments")
	ev := userRequest(fn, sub, "/admin/users/"+userID+"/payments", map[string]string{"userId": userID}, query)
	if admin {
		ev.RequestContext.Authorizer.JWT.Claims["cognito:groups"] = "[admin]"
	}
	return ev
}

// GET /admin/users/{userId}/payments answers the named user's payments, newest first, in GET
// /payments' shape, paged with cursors bound to that user; another user's cursor is a 400, a user
// without payments an empty list, a malformed id a 400 and a caller without the admin group a 403.
func TestListUserPaymentsRoute(t *testing.T) {
	for _, be := range ledgerBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.new(t)
			h := HandleListUserPayments(manifest.MustByName("list-user-payments"), b.l)
			base := time.Now().UTC().Add(-3 * 24 * time.Hour).Truncate(time.Second)
			var want []string // newest first
			for i := 0; i < 5; i++ {
				p := contractPayment(base.Add(time.Duration(i) * time.Hour))
				p.UserID, p.AmountCents, p.InvoiceID = "u-target", int64(200+i), "in_t"+strconv.Itoa(i)
				mustCreate(t, b.l, p, p.InvoiceID)
				want = append([]string{p.ID}, want...)
			}
			other := contractPayment(base.Add(10 * time.Hour)) // newer, another user's: never listed
			other.UserID, other.InvoiceID = "u-other", "in_o"
			mustCreate(t, b.l, other, other.InvoiceID)

			var got []string
			cursor := ""
			for page := 0; ; page++ {
				if page > 3 {
					t.Fatal("too many pages")
				}
				q := map[string]string{"limit": "2"}
				if cursor != "" {
					q["cursor"] = cursor
				}
				var body ListPaymentsResponse
				resp := serve(t, h, adminListRequest("ops", true, "u-target", q), http.StatusOK, &body)
				if strings.Contains(resp.Body, `"PK"`) || strings.Contains(resp.Body, "USER#") {
					t.Fatalf("internal keys exposed: %s", resp.Body)
				}
				for _, v := range body.Payments {
					got = append(got, v.ID)
					if v.AmountCents < 200 || v.InvoiceID == "" || v.Currency != "usd" {
						t.Fatalf("view = %+v", v)
					}
				}
				if body.NextCursor == "" {
					break
				}
				// The target's cursor cannot page another user's list.
				serve(t, h, adminListRequest("ops", true, "u-other", map[string]string{"cursor": body.NextCursor}), http.StatusBadRequest, nil)
				cursor = body.NextCursor
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("listed %v, want newest first %v", got, want)
			}

			var empty struct {
				Payments   []PaymentView `json:"payments"`
				NextCursor *string       `json:"nextCursor"`
			}
			resp := serve(t, h, adminListRequest("ops", true, "u-nobody", nil), http.StatusOK, &empty)
			if empty.Payments == nil || len(empty.Payments) != 0 || empty.NextCursor != nil {
				t.Fatalf("a user without payments: %s", resp.Body)
			}

			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			for _, bad := range []string{"a#b", "a/b", "a\x01b", strings.Repeat("x", 129)} {
				serve(t, h, adminListRequest("ops", true, bad, nil), http.StatusBadRequest, &e)
				if e.Error.Message != "userId is malformed" {
					t.Fatalf("%q: message %q", bad, e.Error.Message)
				}
			}
			serve(t, h, adminListRequest("ops", true, strings.Repeat("x", 128), nil), http.StatusOK, nil)
			serve(t, h, adminListRequest("ops", true, "u-target", map[string]string{"limit": "101"}), http.StatusBadRequest, nil)
			// The user themself, without the admin group, is refused: the admin route is not GET /payments.
			serve(t, h, adminListRequest("u-target", false, "u-target", nil), http.StatusForbidden, nil)
			serve(t, h, adminListRequest("", false, "u-target", nil), http.StatusUnauthorized, nil)
		})
	}
}

// A failed read is a 503, never an empty list that would tell the admin the user has no payments.
func TestListUserPaymentsWhenTheTableFails(t *testing.T) {
	h := HandleListUserPayments(manifest.MustByName("list-user-payments"), failingReader{})
	serve(t, h, adminListRequest("ops", true, "u1", nil), http.StatusServiceUnavailable, nil)
}
