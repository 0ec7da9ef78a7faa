package motoserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The Python tests pin moto's version and the internals serve.py patches, and check that a failed
// transaction still rolls back completely under the patch (test_serve.py).
func TestServePy(t *testing.T) {
	root := projectRoot(t)
	cmd := exec.Command(Python(root), "-m", "unittest", "-v", "test_serve")
	cmd.Dir = filepath.Dir(Script(root))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python -m unittest test_serve: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// Through the real server: many clients update one item at once with optimistic concurrency
// (read the version, write it + 1 on condition that it is unchanged) while others write other
// items of the same table. Every request must be answered as DynamoDB would — success, or a
// cancelled transaction because the condition failed — and no update may be lost.
func TestConcurrentTransactionsOnOneItem(t *testing.T) {
	db := dynamoClient(startServer(t))
	ctx := context.Background()
	table := createTable(t, db)
	counter := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "counter"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"PK": counter["PK"], "n": &types.AttributeValueMemberN{Value: "0"}}}); err != nil {
		t.Fatal(err)
	}

	const writers, increments = 8, 5
	var wg sync.WaitGroup
	errc := make(chan error, writers+4)
	var lost sync.Map // attempts that found the condition failed
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < increments; {
				got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: counter, ConsistentRead: aws.Bool(true)})
				if err != nil {
					errc <- fmt.Errorf("GetItem: %w", err)
					return
				}
				n, _ := strconv.Atoi(got.Item["n"].(*types.AttributeValueMemberN).Value)
				_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Update: &types.Update{TableName: &table, Key: counter, UpdateExpression: aws.String("SET n = :next"),
						ConditionExpression: aws.String("n = :prev"),
						ExpressionAttributeValues: map[string]types.AttributeValue{
							":prev": &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
							":next": &types.AttributeValueMemberN{Value: strconv.Itoa(n + 1)}}}},
					// One item per successful increment, keyed by the value it produced: two
					// increments from the same value would collide on it.
					{Put: &types.Put{TableName: &table, ConditionExpression: aws.String("attribute_not_exists(PK)"),
						Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("step-%04d", n+1)},
							"by": &types.AttributeValueMemberS{Value: strconv.Itoa(w)}}}},
				}})
				var tce *types.TransactionCanceledException
				switch {
				case err == nil:
					i++
				case errors.As(err, &tce) && onlyConditionFailures(tce):
					lost.Store(fmt.Sprintf("%d-%d-%d", w, i, n), true)
				default:
					errc <- fmt.Errorf("TransactWriteItems: %w", err)
					return
				}
			}
		}(w)
	}
	// Meanwhile, plain writes to other items of the table (moto's table copy for a transaction's
	// rollback broke on these: "dictionary changed size during iteration").
	stop := make(chan struct{})
	var fillers sync.WaitGroup
	for f := 0; f < 4; f++ {
		fillers.Add(1)
		go func(f int) {
			defer fillers.Done()
			for i := 0; i < 100; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("filler-%d-%d", f, i)}}}); err != nil {
					errc <- fmt.Errorf("PutItem: %w", err)
					return
				}
			}
		}(f)
	}
	wg.Wait()
	close(stop)
	fillers.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: counter, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Item["n"].(*types.AttributeValueMemberN).Value; n != strconv.Itoa(writers*increments) {
		t.Fatalf("counter = %s after %d successful increments: updates were lost", n, writers*increments)
	}
	for i := 1; i <= writers*increments; i++ {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("step-%04d", i)}}})
		if err != nil || out.Item == nil {
			t.Fatalf("step %d: %v %v", i, out, err)
		}
	}
	conflicts := 0
	lost.Range(func(any, any) bool { conflicts++; return true })
	t.Logf("%d increments, %d attempts lost the race and retried", writers*increments, conflicts)
}

// A transaction whose condition fails changes nothing, through the real server (and its patch).
func TestFailedTransactionChangesNothing(t *testing.T) {
	db := dynamoClient(startServer(t))
	ctx := context.Background()
	table := createTable(t, db)
	pk := func(s string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: s}}
	}
	for _, k := range []string{"a", "b"} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			"PK": pk(k)["PK"], "n": &types.AttributeValueMemberN{Value: "1"}}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &table, Key: pk("a"), UpdateExpression: aws.String("SET n = n + :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
		{Delete: &types.Delete{TableName: &table, Key: pk("b")}},
		{Put: &types.Put{TableName: &table, Item: pk("c")}},
		{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: pk("missing"), ConditionExpression: aws.String("attribute_exists(PK)")}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || !onlyConditionFailures(tce) {
		t.Fatalf("TransactWriteItems: %v, want a cancellation for the failed condition", err)
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range out.Items {
		got[it["PK"].(*types.AttributeValueMemberS).Value] = it["n"].(*types.AttributeValueMemberN).Value
	}
	if len(got) != 2 || got["a"] != "1" || got["b"] != "1" {
		t.Fatalf("after a cancelled transaction: %v, want a=1 b=1 and nothing else", got)
	}
}

func onlyConditionFailures(tce *types.TransactionCanceledException) bool {
	failed := 0
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "", "None":
		case "ConditionalCheckFailed":
			failed++
		default:
			return false
		}
	}
	return failed > 0
}

// startServer runs serve.py on a free port until the test ends and returns its URL. env is added
// to its environment (e.g. LIBERATION_MOTO_TX_PATCH=off).
func startServer(t testing.TB, env ...string) string {
	t.Helper()
	root := projectRoot(t)
	var url string
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		url = "http://127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(Python(root), Args(root, "127.0.0.1", port)...)
		log, err := os.Create(filepath.Join(t.TempDir(), "moto.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Env = append(os.Environ(), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); log.Close(); close(exited) }()
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
		})
		if err := waitReady(url+"/moto-api/", exited); err == nil {
			return url
		} else if attempt == 3 {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("serve.py did not start: %v\n%s", err, b)
		}
		// The free port was taken by another process before serve.py bound it: try another.
	}
}

func waitReady(url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := client.Get(url); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode < 500 {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("serve.py exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("not ready within 60s")
}

func dynamoClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}),
		// Every answer is checked as it comes: no retries hiding a 500.
		RetryMaxAttempts: 1,
	})
}

func createTable(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	name := "motoserver-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return name
}

// projectRoot is the repository root; moto must be installed in its .tools/ (`make tools`).
func projectRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	for _, f := range []string{Python(root), Installed(root), Script(root)} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: run `make tools` (%v)", f, err)
		}
	}
	return root
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
