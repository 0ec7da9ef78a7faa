// Package registry maps every manifest function name to the constructor its functions/<name>/main.go
// passes to platform.Start. The local gateway builds handlers from it; a test checks that it, the
// manifest and the functions/ folders agree.
package registry

import (
	"reflect"
	"runtime"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Entry is one function's constructor.
type Entry struct {
	// Build returns the handler (an httpapi.Lambda, webhook, queue.Consumer or job function).
	Build func(manifest.Function, *platform.Deps) any
	// Constructor is the fully qualified name of the constructor, e.g. ".../billing.HandleListTiers".
	Constructor string
}

func entry[H any](f func(manifest.Function, *platform.Deps) H) Entry {
	return Entry{
		Build:       func(fn manifest.Function, d *platform.Deps) any { return f(fn, d) },
		Constructor: runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name(),
	}
}

// Entries maps function names to constructors. Each area registers its functions in its own file
// (billing.go, payments.go, …) so that adding a function touches one small file.
var Entries = map[string]Entry{}

func register(name string, e Entry) {
	if _, dup := Entries[name]; dup {
		panic("registry: duplicate function " + name)
	}
	Entries[name] = e
}
