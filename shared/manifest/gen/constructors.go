package gen

import (
	"bytes"
	"fmt"
	"go/format"
	"path"
	"strings"
	"text/template"

	m "github.com/liberation/monetization/shared/manifest"
)

// The constructors every function's main and the registry call, New<Name>(*platform.Runtime), are
// generated per package from the manifest: one line each,
// `New<Name> = platform.Build(newWiring, wire<Name>)`. The package owns the two hand-written halves —
// newWiring (wiring.go: what the package makes once from the runtime) and wire<Name> beside the
// function's handler (which of those the handler takes) — so adding a route touches the manifest entry, the handler file, its test, the events
// fixture and the OpenAPI document, and nothing that lists functions.

// ConstructorsFile is the generated file of constructors in a package directory.
const ConstructorsFile = "functions_gen.go"

var ctorTmpl = template.Must(template.New("ctors").Parse(`{{.Marker}}

package {{.Name}}

import "{{.Module}}/shared/platform"

// One constructor per manifest function of this package: newWiring (wiring.go) makes what the
// package needs from the function's runtime, and wire<Name>, beside the handler, hands the handler
// what it takes.
var (
{{range .Fns}}	// {{.Ctor}} builds {{.Name}}{{.Trigger}}: {{.Summary}}.
	{{.Ctor}} = platform.Build(newWiring, {{.Wire}})
{{end}})
`))

// Constructors returns the generated constructor files by path, one per package that holds
// functions (a Host function's constructor, NewHost, takes the areas' hooks and stays hand-written).
func Constructors() (map[string][]byte, error) {
	type fn struct{ Name, Ctor, Wire, Trigger, Summary string }
	byPkg := map[string][]fn{}
	var order []string
	for _, f := range m.Functions {
		if f.Host {
			continue
		}
		pkg := f.GoPackage()
		if pkg == "" {
			return nil, fmt.Errorf("%s: no package (area %q unknown)", f.Name, f.Area)
		}
		if _, ok := byPkg[pkg]; !ok {
			order = append(order, pkg)
		}
		trigger := ""
		if f.Trigger.Kind == m.HTTP {
			trigger = " (" + f.Trigger.Method + " " + f.Trigger.Path + ")"
		}
		byPkg[pkg] = append(byPkg[pkg], fn{Name: f.Name, Ctor: f.Constructor(), Wire: "wire" + m.Pascal(f.Name),
			Trigger: trigger, Summary: strings.TrimSuffix(f.Summary, ".")})
	}
	out := map[string][]byte{}
	for _, pkg := range order {
		var buf bytes.Buffer
		if err := ctorTmpl.Execute(&buf, map[string]any{"Marker": Marker, "Module": Module, "Name": path.Base(pkg), "Fns": byPkg[pkg]}); err != nil {
			return nil, err
		}
		src, err := format.Source(buf.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pkg, err)
		}
		out[pkg+"/"+ConstructorsFile] = src
	}
	return out, nil
}
