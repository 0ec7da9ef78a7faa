package gen

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The generated constructor's result type is read from wire<Name>'s declaration, with exactly the
// imports it names (aliases kept); other functions, methods and test files are ignored.
func TestWireResults(t *testing.T) {
	dir := t.TempDir()
	src := `package demo

import (
	"context"

	"github.com/liberation/monetization/shared/httpapi"
	jb "github.com/liberation/monetization/shared/job"
)

type wiring struct{}
type Report struct{}

func wireGetThing(w wiring) (httpapi.Lambda, error) { return nil, nil }
func wireNightly(w wiring) (jb.Handler[Report], error) { return nil, nil }
func wireOdd(w wiring) error { return nil }
func (wiring) wireMethod() (httpapi.Lambda, error) { return nil, nil }
func helper(ctx context.Context) {}
`
	if err := os.WriteFile(filepath.Join(dir, "demo.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo_test.go"), []byte("package demo\nfunc wireTest(w wiring) (int, error) { return 0, nil }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := wireResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]wireFunc{
		"wireGetThing": {result: "httpapi.Lambda", imports: []string{`"github.com/liberation/monetization/shared/httpapi"`}},
		"wireNightly":  {result: "jb.Handler[Report]", imports: []string{`jb "github.com/liberation/monetization/shared/job"`}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("wire functions = %#v, want %#v", got, want)
	}
}
