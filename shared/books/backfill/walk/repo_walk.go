package walk

// The backfill's items in the single table: the walk (a paged Scan of the registered item types)
// and its checkpoints (JOBRUN#backfill-journal / live | dry-run, store.JobRunKey). Every SDK input
// of the package is here.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/store"
)

// Repo is Walker, Books and States on the single table.
type Repo struct {
	S       *store.Store
	Journal journal.Repo
}

// NewRepo is the repository of a store.
func NewRepo(s *store.Store) Repo { return Repo{S: s, Journal: journal.Repo{S: s}} }

// Get reads an entry (apperr.NotFound when absent).
func (r Repo) Get(ctx context.Context, id string) (journal.Entry, error) {
	return r.Journal.Get(ctx, id)
}

// Post posts an entry (idempotent per id: journal.Repo.Post).
func (r Repo) Post(ctx context.Context, e journal.Entry) error { return r.Journal.Post(ctx, e) }

// Page scans one page of the table keeping items of the given types. The position is the base
// table's LastEvaluatedKey (PK and SK), encoded; a Scan with a filter may return an empty page
// that is not the last.
func (r Repo) Page(ctx context.Context, itemTypes []string, from string, limit int32) ([]map[string]types.AttributeValue, string, error) {
	api, ok := r.S.DB.(store.ScanAPI)
	if !ok {
		return nil, "", apperr.New(apperr.Internal, "the DynamoDB client cannot Scan")
	}
	if len(itemTypes) == 0 {
		return nil, "", nil
	}
	in := &dynamodb.ScanInput{TableName: &r.S.Table, Limit: &limit, ConsistentRead: new(bool),
		ExpressionAttributeNames: map[string]string{"#t": "type"}, ExpressionAttributeValues: map[string]types.AttributeValue{}}
	filter := "#t IN ("
	for i, t := range itemTypes {
		name := ":t" + strconv.Itoa(i)
		in.ExpressionAttributeValues[name] = &types.AttributeValueMemberS{Value: t}
		if i > 0 {
			filter += ", "
		}
		filter += name
	}
	filter += ")"
	in.FilterExpression = &filter
	if from != "" {
		start, err := decodePosition(from)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := api.Scan(ctx, in)
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "scan the table")
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		if next, err = encodePosition(out.LastEvaluatedKey); err != nil {
			return nil, "", err
		}
	}
	return out.Items, next, nil
}

// position is a base-table key: PK and SK, strings.
type position struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

func encodePosition(k map[string]types.AttributeValue) (string, error) {
	pk, ok1 := k["PK"].(*types.AttributeValueMemberS)
	sk, ok2 := k["SK"].(*types.AttributeValueMemberS)
	if !ok1 || !ok2 || len(k) != 2 {
		return "", apperr.New(apperr.Internal, "scan position is not a PK/SK key")
	}
	b, _ := json.Marshal(position{PK: pk.Value, SK: sk.Value}) // two strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodePosition(s string) (map[string]types.AttributeValue, error) {
	var p position
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || p.PK == "" || p.SK == "" {
		return nil, apperr.New(apperr.Invalid, "backfill checkpoint position %q is not one this job wrote", s)
	}
	return store.Key{PK: p.PK, SK: p.SK}.Item(), nil
}

// stateItem is a checkpoint as stored.
type stateItem struct {
	PK    string    `dynamodbav:"PK"`
	SK    string    `dynamodbav:"SK"`
	Type  string    `dynamodbav:"type"`
	At    time.Time `dynamodbav:"at"`
	State State     `dynamodbav:"state"`
}

func stateKey(dryRun bool) store.Key { return store.JobCheckpointKey(JobName, dryRun) }

// Load reads a mode's checkpoint (the zero State when the job never ran in that mode).
func (r Repo) Load(ctx context.Context, dryRun bool) (State, error) {
	var it stateItem
	err := r.S.GetConsistent(ctx, stateKey(dryRun), &it)
	if apperr.Is(err, apperr.NotFound) {
		return State{DryRun: dryRun}, nil
	}
	return it.State, err
}

// Save stores a mode's checkpoint (one run at a time: the schedule runs it daily and a run ends
// long before the next; a person running it meanwhile only repeats pages, which posts nothing twice).
func (r Repo) Save(ctx context.Context, st State) error {
	k := stateKey(st.DryRun)
	return r.S.Put(ctx, stateItem{PK: k.PK, SK: k.SK, Type: "jobrun", At: st.UpdatedAt, State: st}, "", nil, nil)
}
