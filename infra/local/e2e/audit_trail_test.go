//go:build integration

package e2e

// The audit trail's proof for issue 18: real money actions write chained audit records, the seal
// job seals the day, one record is edited directly in the table, and the verify job — run through
// the gateway's jobs endpoint — names that record. GET /admin/audit reads the records by each of
// its access patterns. Every grant of the three new functions is exercised (usesCoverGrants).

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit/trail"
	"github.com/liberation/monetization/shared/audit/verify"
	"github.com/liberation/monetization/shared/store"
)

type auditPage struct {
	Records    []trail.Record `json:"records"`
	NextCursor string         `json:"nextCursor"`
}

// runAuditJob runs an audit job for one day through the gateway and decodes its report.
func runAuditJob[R any](t *testing.T, h *Harness, name, day string) R {
	t.Helper()
	var res struct {
		Result json.RawMessage `json:"result"`
	}
	h.Call(t, http.MethodPost, "/_local/jobs/"+name, "", map[string]string{"day": day}, http.StatusOK, &res)
	var rep R
	if err := json.Unmarshal(res.Result, &rep); err != nil {
		t.Fatalf("%s report: %v: %s", name, err, res.Result)
	}
	return rep
}

func TestAuditTrailShowsAnEditedRecord(t *testing.T) {
	s := startPayStand(t, 6000, false) // invoice.paid: the payment and its audit record
	if status, body := s.refund(1500, "audit-refund-"+s.user); status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("refund: %d %s", status, body)
	}
	h := s.h
	day := time.Now().UTC().Format(time.DateOnly)
	target := "payment:" + s.payID

	// The records about the payment (GSI2), its refund among them, each with its chain fields.
	var byTarget auditPage
	h.Call(t, http.MethodGet, "/admin/audit?target="+target+"&from="+day, s.admin, nil, http.StatusOK, &byTarget)
	var refundRec *trail.Record
	for i, r := range byTarget.Records {
		if r.Target != target || r.Chain == "" || r.Seq < 1 || len(r.Hash) != 64 {
			t.Fatalf("record %+v: not about %s, or without its chain fields", r, target)
		}
		if r.Action == "refund.reserve" {
			refundRec = &byTarget.Records[i]
		}
	}
	if refundRec == nil {
		t.Fatalf("no refund.reserve record about %s among %+v", target, byTarget.Records)
	}
	// By actor (GSI1): the admin's own records.
	var byActor auditPage
	h.Call(t, http.MethodGet, "/admin/audit?actor="+refundRec.Actor+"&from="+day, s.admin, nil, http.StatusOK, &byActor)
	if len(byActor.Records) == 0 {
		t.Fatalf("no records by %s", refundRec.Actor)
	}
	// The day partitions, one record a page: a signed cursor, and the pages add up.
	seen := map[string]bool{}
	path := "/admin/audit?from=" + day + "&limit=1"
	for next, pages := "", 0; ; pages++ {
		var p auditPage
		h.Call(t, http.MethodGet, path+next, s.admin, nil, http.StatusOK, &p)
		for _, r := range p.Records {
			seen[r.ID] = true
		}
		if p.NextCursor == "" || pages > 100 {
			break
		}
		next = "&cursor=" + p.NextCursor
	}
	if !seen[refundRec.ID] || len(seen) < 2 {
		t.Fatalf("paging the day saw %d records (the refund's: %v)", len(seen), seen[refundRec.ID])
	}
	// Not an admin: 403; a backwards range: 400.
	h.Call(t, http.MethodGet, "/admin/audit", s.tok, nil, http.StatusForbidden, nil)
	h.Call(t, http.MethodGet, "/admin/audit?from="+day+"&to=2000-01-01", s.admin, nil, http.StatusBadRequest, nil)

	// Seal the day (twice: the second run keeps the first seal), then verify: whole.
	seal := runAuditJob[trail.SealReport](t, h, "audit-seal", day)
	if seal.Records < 2 || seal.Already {
		t.Fatalf("first seal: %+v", seal)
	}
	if again := runAuditJob[trail.SealReport](t, h, "audit-seal", day); !again.Already || again.Differs {
		t.Fatalf("second seal: %+v", again)
	}
	if rep := runAuditJob[trail.VerifyReport](t, h, "audit-verify", day); rep.Problems != 0 || !rep.Days[0].Sealed {
		t.Fatalf("verify before the edit: %+v", rep)
	}

	// Someone with table access lowers the refund's amount in its audit record.
	ctx := context.Background()
	at, err := time.Parse(time.RFC3339Nano, refundRec.At.Format(time.RFC3339Nano))
	if err != nil {
		t.Fatal(err)
	}
	k := store.AuditKey(at, refundRec.ID)
	_, err = h.Env.Store().DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(h.Env.Store().Table),
		Key: k.Item(), UpdateExpression: aws.String("SET #d.#a = :v"), ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#d": "details", "#a": "amountCents"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "1"}}})
	if err != nil {
		t.Fatalf("edit the record %s: %v", k, err)
	}
	rep := runAuditJob[trail.VerifyReport](t, h, "audit-verify", day)
	var named *verify.Problem
	for i, p := range rep.Days[0].Problems {
		if p.ID == refundRec.ID {
			named = &rep.Days[0].Problems[i]
		}
	}
	if rep.Problems == 0 || named == nil || named.Kind != verify.Edited || named.Position != refundRec.Seq || named.Chain != refundRec.Chain {
		t.Fatalf("verify after editing %s (%s #%d): %+v", refundRec.ID, refundRec.Chain, refundRec.Seq, rep)
	}
	t.Logf("verify named %s: %+v", refundRec.ID, *named)

	usesCoverGrants(t, "list-audit-records", "dynamodb:Query")
	usesCoverGrants(t, "audit-seal", "s3:PutObject")
	usesCoverGrants(t, "audit-verify", "s3:GetObject")
}

// The two functions that write audit records and lacked one of the head's grants before the chains
// (create-course: GetItem; put-license-branding: UpdateItem) now use them, and every grant they hold.
func TestAuditWritersUseTheHeadGrants(t *testing.T) {
	h := Start(t)
	o := newOrg(t, h, 5, "block", "restrict", time.Now().UTC())
	brand := map[string]any{"displayName": "Acme Academy", "logoUrl": "https://cdn.acme.example/logo.png",
		"primaryColor": "#0B3D91", "accentColor": "#FC3D21", "emailFromName": "Acme Academy", "supportEmail": "learning@acme.example",
		"customDomain": "learn.acme.example"}
	h.Call(t, http.MethodPut, "/licenses/"+o.lic.ID+"/branding", o.admin, brand, http.StatusOK, nil)
	instructor := h.Token(t, "instr-"+suffix(), "instr@example.com", "instructor")
	h.Call(t, http.MethodPost, "/courses", instructor, map[string]any{"title": "Audited course", "description": "All about audits.",
		"category": "development", "level": "beginner", "language": "en", "priceCents": 1000, "tags": []string{"e2e"}}, http.StatusCreated, nil)

	usesCoverGrants(t, "put-license-branding", "dynamodb:UpdateItem")
	usesCoverGrants(t, "create-course", "dynamodb:GetItem")
}
