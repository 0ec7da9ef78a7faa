package migrate

// The runner's items in the single table: the schema version (store.SchemaVersionKey), the
// checkpoints (JOBRUN#migrate / live | dry-run), and the steps' writes. The walk itself is the
// books backfill's (walk.Repo.Page: a paged Scan filtered by item type). Every SDK input of the
// package is here.

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/backfill/walk"
	"github.com/liberation/monetization/shared/store"
)

// Repo is Walker, Items and States on the single table.
type Repo struct {
	walk.Repo
}

// NewRepo is the repository of a store.
func NewRepo(s *store.Store) Repo { return Repo{Repo: walk.NewRepo(s)} }

// Apply sets the step's attributes on the item, if it still exists (a person's erasure may have
// deleted it since the walk read it: it is not recreated as a stub).
func (r Repo) Apply(ctx context.Context, item map[string]types.AttributeValue, set map[string]types.AttributeValue) (bool, error) {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	in := &dynamodb.UpdateItemInput{
		Key:                       map[string]types.AttributeValue{"PK": item["PK"], "SK": item["SK"]},
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{},
		ExpressionAttributeValues: map[string]types.AttributeValue{},
	}
	expr := "SET "
	for i, n := range names {
		a, v := "#a"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		in.ExpressionAttributeNames[a] = n
		in.ExpressionAttributeValues[v] = set[n]
		if i > 0 {
			expr += ", "
		}
		expr += a + " = " + v
	}
	in.UpdateExpression = &expr
	err := r.S.Update(ctx, in, nil)
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// versionItem is the schema version as stored.
type versionItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	Version
}

// checkpointItem is a checkpoint as stored.
type checkpointItem struct {
	PK         string     `dynamodbav:"PK"`
	SK         string     `dynamodbav:"SK"`
	Type       string     `dynamodbav:"type"`
	At         time.Time  `dynamodbav:"at"`
	Checkpoint Checkpoint `dynamodbav:"checkpoint"`
}

func checkpointKey(dryRun bool) store.Key { return store.JobCheckpointKey(JobName, dryRun) }

// Version reads the table's schema version (the zero Version before the first migration).
func (r Repo) Version(ctx context.Context) (Version, error) {
	var it versionItem
	err := r.S.GetConsistent(ctx, store.SchemaVersionKey(), &it)
	if apperr.Is(err, apperr.NotFound) {
		return Version{}, nil
	}
	return it.Version, err
}

// Load reads a mode's checkpoint (the zero Checkpoint when the job never ran in that mode).
func (r Repo) Load(ctx context.Context, dryRun bool) (Checkpoint, error) {
	var it checkpointItem
	err := r.S.GetConsistent(ctx, checkpointKey(dryRun), &it)
	if apperr.Is(err, apperr.NotFound) {
		return Checkpoint{DryRun: dryRun}, nil
	}
	return it.Checkpoint, err
}

func (r Repo) checkpoint(cp Checkpoint) checkpointItem {
	k := checkpointKey(cp.DryRun)
	return checkpointItem{PK: k.PK, SK: k.SK, Type: "jobrun", At: cp.UpdatedAt, Checkpoint: cp}
}

// Save stores a mode's checkpoint.
func (r Repo) Save(ctx context.Context, cp Checkpoint) error {
	return r.S.Put(ctx, r.checkpoint(cp), "", nil, nil)
}

// Finish moves the version from `from` to `to` and stores the live checkpoint, in one transaction.
// The version's condition makes two runs at once harmless: the second is refused (Conflict).
func (r Repo) Finish(ctx context.Context, from int, to Version, next Checkpoint) error {
	k := store.SchemaVersionKey()
	ver, err := store.Marshal(versionItem{PK: k.PK, SK: k.SK, Type: "schema-version", Version: to})
	if err != nil {
		return err
	}
	cond := "attribute_not_exists(PK)"
	var names map[string]string
	var vals map[string]types.AttributeValue
	if from > 0 {
		cond = "#v = :from"
		names, vals = map[string]string{"#v": "version"}, map[string]types.AttributeValue{":from": store.N(int64(from))}
	}
	cp, err := store.PutItem(r.checkpoint(next))
	if err != nil {
		return err
	}
	err = r.S.Transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{Item: ver, ConditionExpression: &cond, ExpressionAttributeNames: names, ExpressionAttributeValues: vals}},
		cp,
	})
	if store.IsConditionFailed(err) {
		return apperr.New(apperr.Conflict, "the schema version moved from %d while migration %d was walked (another run?); run again", from, to.Number)
	}
	return err
}
