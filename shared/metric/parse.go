package metric

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
)

// Observed is one metric found in a log line's EMF block, as CloudWatch would read it.
type Observed struct {
	Namespace  string
	Name       string
	Unit       string
	Value      float64
	Dimensions [][]string        // the dimension sets the line declares
	DimValues  map[string]string // the values of those dimensions, from the line's top level
}

// Parse reads JSON log lines (one per line, as the functions write them) and returns every metric
// their _aws blocks declare, in order, with the value found at the line's top level. Lines without
// _aws are skipped. A declared metric without its value, or a dimension without its value, is an
// error: CloudWatch would drop it. Tests use it to prove that the code paths emit what the alarms
// watch.
func Parse(logs []byte) ([]Observed, error) {
	var out []Observed
	sc := bufio.NewScanner(bytes.NewReader(logs))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(line, &top); err != nil {
			return nil, fmt.Errorf("metric line not JSON: %w", err)
		}
		var aws struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string              `json:"Namespace"`
				Dimensions [][]string          `json:"Dimensions"`
				Metrics    []map[string]string `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		}
		if err := json.Unmarshal(top["_aws"], &aws); err != nil {
			return nil, fmt.Errorf("_aws block: %w", err)
		}
		if aws.Timestamp <= 0 {
			return nil, fmt.Errorf("_aws block without a timestamp: %s", line)
		}
		for _, d := range aws.CloudWatchMetrics {
			vals := map[string]string{}
			for _, set := range d.Dimensions {
				for _, name := range set {
					var v string
					if err := json.Unmarshal(top[name], &v); err != nil || v == "" {
						return nil, fmt.Errorf("dimension %q has no string value: %s", name, line)
					}
					vals[name] = v
				}
			}
			for _, m := range d.Metrics {
				var v float64
				if err := json.Unmarshal(top[m["Name"]], &v); err != nil {
					return nil, fmt.Errorf("metric %q has no numeric value: %s", m["Name"], line)
				}
				out = append(out, Observed{Namespace: d.Namespace, Name: m["Name"], Unit: m["Unit"], Value: v,
					Dimensions: d.Dimensions, DimValues: vals})
			}
		}
	}
	return out, sc.Err()
}

// Sum adds the values of the observed metrics called name.
func Sum(obs []Observed, name string) float64 {
	var s float64
	for _, o := range obs {
		if o.Name == name {
			s += o.Value
		}
	}
	return s
}
