package metric

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

// The line is valid EMF: _aws with a timestamp and the metric's definition, the dimension and the
// value as top-level members.
func TestEmitWritesEmbeddedMetricFormat(t *testing.T) {
	var buf bytes.Buffer
	Emit(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), "stripe-webhook", UnmatchedRefunds, 1)
	var line struct {
		AWS struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string              `json:"Namespace"`
				Dimensions [][]string          `json:"Dimensions"`
				Metrics    []map[string]string `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
		Function string `json:"Function"`
		Value    int64  `json:"UnmatchedRefunds"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	m := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp <= 0 || len(m) != 1 || m[0].Namespace != Namespace || m[0].Metrics[0]["Name"] != UnmatchedRefunds ||
		m[0].Dimensions[0][0] != "Function" || line.Function != "stripe-webhook" || line.Value != 1 {
		t.Fatalf("not EMF: %s", buf.String())
	}
}
