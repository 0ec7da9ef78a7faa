package privacy

// The DynamoDB inputs of erasure requests and of the admins' list of privacy requests, and the
// privacy frame's own eraser (a person's exports).

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// CreateErasure stores a new request with the audit record of the request, in one transaction.
// When the user already has one (running or finished), nothing is written and that request is
// returned with created = false.
func (r Repo) CreateErasure(ctx context.Context, e Erasure, a audit.Entry) (Erasure, bool, error) {
	k := store.ErasureKey(e.UserID)
	e.PK, e.SK, e.Type, e.Version = k.PK, k.SK, "personal-erasure", 1
	e.GSI1PK, e.GSI1SK = store.PrivacyRequestsGSI1(e.CreatedAt, e.ID)
	put, err := store.PutNewItem(e)
	if err != nil {
		return Erasure{}, false, err
	}
	rec, err := audit.Item(a, e.CreatedAt)
	if err != nil {
		return Erasure{}, false, err
	}
	err = r.S.Transact(ctx, []types.TransactWriteItem{put, rec})
	if err == nil {
		return e, true, nil
	}
	if !store.IsConditionFailed(err) {
		return Erasure{}, false, err
	}
	prev, err := r.GetErasure(ctx, e.UserID)
	return prev, false, err
}

// GetErasure reads the user's erasure request (NotFound when they have none).
func (r Repo) GetErasure(ctx context.Context, userID string) (Erasure, error) {
	var e Erasure
	err := r.S.GetConsistent(ctx, store.ErasureKey(userID), &e)
	return e, err
}

// SaveErasure writes e over the version it was read at; a lost race is a condition failure.
func (r Repo) SaveErasure(ctx context.Context, e Erasure) (Erasure, error) {
	read := e.Version
	e.Version++
	put, err := store.PutVersioned(e, read)
	if err != nil {
		return Erasure{}, err
	}
	if err := r.S.Transact(ctx, []types.TransactWriteItem{put}); err != nil {
		return Erasure{}, err
	}
	return e, nil
}

// FinishErasure writes the finished pass over its version with its audit record, in one
// transaction.
func (r Repo) FinishErasure(ctx context.Context, e Erasure, a audit.Entry) (Erasure, error) {
	read := e.Version
	e.Version++
	put, err := store.PutVersioned(e, read)
	if err != nil {
		return Erasure{}, err
	}
	rec, err := audit.Item(a, e.UpdatedAt)
	if err != nil {
		return Erasure{}, err
	}
	if err := r.S.Transact(ctx, []types.TransactWriteItem{put, rec}); err != nil {
		return Erasure{}, err
	}
	return e, nil
}

// requestRow is an export or an erasure as the list reads it (both carry these attributes).
type requestRow struct {
	Type        string     `dynamodbav:"type"`
	ID          string     `dynamodbav:"id"`
	UserID      string     `dynamodbav:"userId"`
	Status      string     `dynamodbav:"status"`
	RequestedBy string     `dynamodbav:"requestedBy"`
	CreatedAt   time.Time  `dynamodbav:"createdAt"`
	UpdatedAt   time.Time  `dynamodbav:"updatedAt"`
	Pseudonym   string     `dynamodbav:"pseudonym"`
	Holds       []Hold     `dynamodbav:"holds"`
	Error       string     `dynamodbav:"error"`
	FinishedAt  *time.Time `dynamodbav:"finishedAt"`
	ReadyAt     *time.Time `dynamodbav:"readyAt"`
}

// requestsScope binds the list's cursors.
const requestsScope = "privacy-requests"

// Requests reads a page of every export and erasure request, newest first.
func (r Repo) Requests(ctx context.Context, limit int32, cursor string) ([]requestRow, string, error) {
	start, err := r.S.Cursor.Decode(ctx, requestsScope, cursor)
	if err != nil {
		return nil, "", err
	}
	pk, _ := store.PrivacyRequestsGSI1(time.Time{}, "")
	res, err := r.S.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &r.S.Table,
		IndexName:                 aws.String(manifest.GSI1.Name),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	rows := make([]requestRow, 0, len(res.Items))
	for _, it := range res.Items {
		var row requestRow
		if err := store.DecodeItem(it, &row); err != nil {
			return nil, "", err
		}
		rows = append(rows, row)
	}
	next, err := r.S.Cursor.Encode(ctx, requestsScope, res.LastEvaluatedKey)
	return rows, next, err
}

// deleteExport removes an export item and, when it still points at it, the user's running-export
// pointer, in one transaction.
func (r Repo) deleteExport(ctx context.Context, userID, exportID string) error {
	k, run := store.ExportKey(userID, exportID), store.RunningExportKey(userID)
	return r.S.Transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{Key: k.Item()}},
		{Delete: &types.Delete{Key: run.Item(),
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR exportId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": store.S(exportID)}}},
	})
}
