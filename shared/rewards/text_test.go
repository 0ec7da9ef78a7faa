package rewards

import "testing"

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		v        string
		min, max int
		ok       bool
	}{
		{"Out of stock", 3, 500, true},
		{"a  ", 3, 500, true},                 // three characters, one of them not a space
		{"\u009e\U00020C6D\n", 3, 500, false}, // control characters
		{"   ", 3, 500, false},                // blank
		{"ab", 3, 500, false},
		{"éèà", 3, 3, true}, // characters, not bytes
		{"", 0, 500, true},
		{"  ", 0, 500, true}, // optional text may be blank
		{"tab\there", 0, 500, false},
	} {
		if err := CheckText("reason", tc.v, tc.min, tc.max); (err == nil) != tc.ok {
			t.Errorf("%q (%d..%d): %v", tc.v, tc.min, tc.max, err)
		}
	}
}
