package storetest

import "testing"

type item struct {
	PK     string            `dynamodbav:"PK"`
	GSI1PK string            `dynamodbav:"GSI1PK"`
	GSI2PK string            `dynamodbav:"GSI2PK,omitempty"`
	Tags   map[string]string `dynamodbav:"tags"`
}

func TestRoundTrip(t *testing.T) {
	in := item{PK: "A", GSI1PK: "X", Tags: map[string]string{"k": "v"}}
	out := RoundTrip(in)
	out.Tags["k"] = "changed"
	if in.Tags["k"] != "v" || out.PK != "A" || out.GSI1PK != "X" {
		t.Fatalf("the copy aliases or loses data: %+v / %+v", in, out)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an empty index key was accepted")
		}
	}()
	RoundTrip(item{PK: "A", GSI1PK: ""})
}
