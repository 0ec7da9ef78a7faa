package platform

import (
	"slices"
	"testing"
)

func TestAppOrigins(t *testing.T) {
	got := appOrigins(" https://App.Example.com , http://localhost:5173,,not a url,ftp://x.example", "https://app.example.com/account?x=1")
	want := []string{"https://app.example.com", "http://localhost:5173"}
	if !slices.Equal(got, want) {
		t.Fatalf("appOrigins = %q, want %q", got, want)
	}
	for raw, want := range map[string]string{
		"https://a.example:8443/x": "https://a.example:8443",
		"HTTP://LOCALHOST:3000":    "http://localhost:3000",
		"javascript:alert(1)":      "",
		"/relative":                "",
	} {
		if got := Origin(raw); got != want {
			t.Errorf("Origin(%q) = %q, want %q", raw, got, want)
		}
	}
}
