//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/shared/migrate"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// The migrate job end to end, through the local gateway's job runner as the deploy invokes it: a
// personal export from before the admins' list (no GSI1PK/GSI1SK) is missing from
// GET /admin/privacy-requests; a dry run counts it and changes nothing; a run applies migration 1,
// records the version, and the export is listed; a run after that changes nothing. The job's
// grants (Scan, GetItem, PutItem, UpdateItem) are all used.
func TestMigrate(t *testing.T) {
	h := Start(t)
	s := h.Env.Store()
	ctx := context.Background()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	admin := h.Token(t, "admin-"+run, "ops@example.com", "admin")

	now := time.Now().UTC().Truncate(time.Second)
	oldExp := privacy.Export{ID: "exp-old-" + run, UserID: "mig-old-" + run, Status: "building", CreatedAt: now.Add(-48 * time.Hour)}
	newExp := privacy.Export{ID: "exp-new-" + run, UserID: "mig-new-" + run, Status: "building", CreatedAt: now.Add(-time.Hour)}
	for _, e := range []privacy.Export{oldExp, newExp} {
		if _, created, err := (privacy.Repo{S: s}).Create(ctx, e); err != nil || !created {
			t.Fatalf("create export %s: %v %v", e.ID, created, err)
		}
	}
	// The old export as it was stored before the list existed.
	k := store.ExportKey(oldExp.UserID, oldExp.ID)
	if err := s.Update(ctx, &dynamodb.UpdateItemInput{Key: k.Item(), UpdateExpression: aws.String("REMOVE GSI1PK, GSI1SK")}, nil); err != nil {
		t.Fatal(err)
	}
	listedIDs := func() map[string]bool {
		var page struct {
			Requests []privacy.RequestView `json:"requests"`
		}
		h.Call(t, "GET", "/admin/privacy-requests?limit=50", admin, nil, http.StatusOK, &page)
		out := map[string]bool{}
		for _, r := range page.Requests {
			out[r.ID] = true
		}
		return out
	}
	if l := listedIDs(); l[oldExp.ID] || !l[newExp.ID] {
		t.Fatalf("before the migration: listed %v", l)
	}

	job := func(detail map[string]string) migrate.Report {
		t.Helper()
		status, body, _ := h.Do(t, http.MethodPost, "/_local/jobs/migrate", "", detail)
		var res struct {
			Result migrate.Report `json:"result"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &res) != nil {
			t.Fatalf("migrate: %d %s", status, body)
		}
		return res.Result
	}
	dry := job(map[string]string{"dryRun": "true"})
	if !dry.DryRun || !dry.Done || dry.Version != 0 || len(dry.Results) != 1 || dry.Results[0].Changed != 1 || dry.Results[0].Unchanged != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	if listedIDs()[oldExp.ID] {
		t.Fatal("the dry run changed the old export")
	}
	rep := job(nil)
	if !rep.Done || rep.From != 0 || rep.Version != 1 || rep.Code < 1 || rep.Results[0].Changed != 1 || rep.ThisRun.Changed != 1 {
		t.Fatalf("migrate: %+v", rep)
	}
	if l := listedIDs(); !l[oldExp.ID] || !l[newExp.ID] {
		t.Fatalf("after the migration: listed %v", l)
	}
	if again := job(nil); !again.Done || again.Version != rep.Version || again.ThisRun.Changed != 0 || again.ThisRun.Pages != 0 {
		t.Fatalf("a run after the migration: %+v", again)
	}
	usesCoverGrants(t, "migrate", "dynamodb:Scan")
}
