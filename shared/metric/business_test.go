package metric

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// A point with a breakdown is declared under the rollup (no dimension: what the alarms read) and
// under its dimensions, with the dimension's value and the metric's value at the top level.
func TestRecordDeclaresRollupAndBreakdown(t *testing.T) {
	var buf bytes.Buffer
	Record(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)),
		Point{Name: WebhookLag, Unit: Milliseconds, Value: 1234, Dims: []Dim{{DimEventType, "invoice.paid"}}})
	obs, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 {
		t.Fatalf("want one metric, got %+v", obs)
	}
	o := obs[0]
	if o.Namespace != Namespace || o.Name != WebhookLag || o.Unit != "Milliseconds" || o.Value != 1234 {
		t.Fatalf("wrong metric: %+v", o)
	}
	if len(o.Dimensions) != 2 || len(o.Dimensions[0]) != 0 || !slices.Equal(o.Dimensions[1], []string{DimEventType}) ||
		o.DimValues[DimEventType] != "invoice.paid" {
		t.Fatalf("dimension sets: %+v", o)
	}
}

// A point without a breakdown has only the rollup, and Count is the default unit.
func TestCount1IsARollupCount(t *testing.T) {
	var buf bytes.Buffer
	Count1(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), PaymentAttempts)
	obs, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Name != PaymentAttempts || obs[0].Unit != "Count" || obs[0].Value != 1 ||
		len(obs[0].Dimensions) != 1 || len(obs[0].Dimensions[0]) != 0 {
		t.Fatalf("got %+v", obs)
	}
}

// Parse refuses what CloudWatch would drop: a declared metric whose value is missing, a dimension
// without a value. Lines without _aws are ignored.
func TestParseRefusesIncompleteLines(t *testing.T) {
	ok := `{"msg":"hello"}` + "\n"
	noValue := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]}}`
	noDim := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"X"}]}]},"X":1}`
	if obs, err := Parse([]byte(ok)); err != nil || len(obs) != 0 {
		t.Fatalf("plain line: %v %v", obs, err)
	}
	for _, l := range []string{noValue, noDim} {
		if _, err := Parse([]byte(ok + l + "\n")); err == nil || !strings.Contains(err.Error(), "no ") {
			t.Errorf("accepted %s (err %v)", l, err)
		}
	}
}

// Emit's lines (the operational counts) parse too, with their Function dimension.
func TestParseReadsEmit(t *testing.T) {
	var buf bytes.Buffer
	Emit(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), "billing-cycle", DuplicateLiveSubscriptions, 0)
	obs, err := Parse(buf.Bytes())
	if err != nil || len(obs) != 1 || obs[0].DimValues["Function"] != "billing-cycle" || obs[0].Value != 0 {
		t.Fatalf("got %+v, %v", obs, err)
	}
}
