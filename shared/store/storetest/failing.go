package storetest

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/shared/store"
)

// ErrInjected is the failure FailingWrites injects.
var ErrInjected = errors.New("storetest: injected write failure (the function died here)")

// FailingWrites wraps a table client and fails its FailAt-th write — PutItem, UpdateItem or
// TransactWriteItems, counted from 1 — once, as a function dying midway (or a table unreachable
// for one call) would; reads pass through. The resumable jobs' tests fail each write in turn and
// check that a resumed run ends where an uninterrupted one does.
type FailingWrites struct {
	store.DynamoAPI
	FailAt int64
	writes atomic.Int64
	failed atomic.Int64
}

// Writes counts the writes tried so far; Failed the ones failed (0 or 1).
func (f *FailingWrites) Writes() int64 { return f.writes.Load() }

// Failed counts the writes failed (0 or 1).
func (f *FailingWrites) Failed() int64 { return f.failed.Load() }

func (f *FailingWrites) write() error {
	if f.writes.Add(1) == f.FailAt {
		f.failed.Add(1)
		return ErrInjected
	}
	return nil
}

// PutItem fails when it is the FailAt-th write.
func (f *FailingWrites) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.DynamoAPI.PutItem(ctx, in, o...)
}

// UpdateItem fails when it is the FailAt-th write.
func (f *FailingWrites) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.DynamoAPI.UpdateItem(ctx, in, o...)
}

// TransactWriteItems fails when it is the FailAt-th write.
func (f *FailingWrites) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.DynamoAPI.TransactWriteItems(ctx, in, o...)
}

// Scan passes through to the wrapped client when it can scan (the in-process table and moto's
// client do): tests dump the table through the store they broke.
func (f *FailingWrites) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	s, ok := f.DynamoAPI.(interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	})
	if !ok {
		return nil, errors.New("storetest: the wrapped table client cannot scan")
	}
	return s.Scan(ctx, in, o...)
}
