package gen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	m "github.com/liberation/monetization/shared/manifest"
)

// The constructors every function's main and the registry call, New<Name>(*platform.Runtime), are
// generated per package from the manifest (decision 0074):
//
//	func New<Name>(rt *platform.Runtime) (<H>, error) { return platform.Build(newWiring, wire<Name>)(rt) }
//
// The package owns the two hand-written halves — newWiring (wiring.go: what the package makes once
// from the runtime) and wire<Name> beside the function's handler (which of those the handler takes)
// — so adding a route touches the manifest entry, the handler file, its test, the events fixture and
// the OpenAPI document, and nothing that lists functions. <H> is read from wire<Name>'s declaration.
// They are functions, not package variables: a variable's initializer would make every handler of
// the package reachable, and so linked into every function built from it.

// ConstructorsFile is the generated file of constructors in a package directory.
const ConstructorsFile = "functions_gen.go"

var ctorTmpl = template.Must(template.New("ctors").Parse(`{{.Marker}}

package {{.Name}}

import (
{{range .Imports}}	{{.}}
{{end}})

// One constructor per manifest function of this package: newWiring (wiring.go) makes what the
// package needs from the function's runtime, and wire<Name>, beside the handler, hands the handler
// what it takes.
{{range .Fns}}
// {{.Ctor}} builds {{.Name}}{{.Trigger}}: {{.Summary}}.
func {{.Ctor}}(rt *platform.Runtime) ({{.Result}}, error) {
	return platform.Build(newWiring, {{.Wire}})(rt)
}
{{end}}`))

// Constructors returns the generated constructor files by path, one per package that holds
// functions (a Host function's constructor, NewHost, takes the areas' hooks and stays hand-written).
func Constructors() (map[string][]byte, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	type fn struct{ Name, Ctor, Wire, Trigger, Summary, Result string }
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
		wires, err := wireResults(filepath.Join(root, filepath.FromSlash(pkg)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pkg, err)
		}
		imports := map[string]bool{strconv.Quote(Module + "/shared/platform"): true}
		fns := byPkg[pkg]
		for i := range fns {
			w, ok := wires[fns[i].Wire]
			if !ok {
				return nil, fmt.Errorf("%s: no func %s(…) (H, error) for %s: write it beside the handler (decision 0074)", pkg, fns[i].Wire, fns[i].Name)
			}
			fns[i].Result = w.result
			for _, imp := range w.imports {
				imports[imp] = true
			}
		}
		var buf bytes.Buffer
		err = ctorTmpl.Execute(&buf, map[string]any{"Marker": Marker, "Name": path.Base(pkg), "Imports": sortedKeys(imports), "Fns": fns})
		if err != nil {
			return nil, err
		}
		src, err := format.Source(buf.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", pkg, err, buf.Bytes())
		}
		out[pkg+"/"+ConstructorsFile] = src
	}
	return out, nil
}

// wireFunc is a wire function's handler type as source, and the imports it needs.
type wireFunc struct {
	result  string
	imports []string
}

// wireResults reads the package's non-test, non-generated files for func wire<Name>(w) (H, error)
// and returns H of each, with the import specs (as written in its file) that H's qualifiers name.
func wireResults(dir string) (map[string]wireFunc, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]wireFunc{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == ConstructorsFile {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, "wire") || fd.Type.Results == nil ||
				len(fd.Type.Results.List) != 2 {
				continue
			}
			var buf bytes.Buffer
			res := fd.Type.Results.List[0].Type
			if err := printer.Fprint(&buf, fset, res); err != nil {
				return nil, err
			}
			out[fd.Name.Name] = wireFunc{result: buf.String(), imports: importsFor(f, res)}
		}
	}
	return out, nil
}

// importsFor returns the import specs of f that the qualified identifiers in expr use.
func importsFor(f *ast.File, expr ast.Expr) []string {
	used := map[string]bool{}
	ast.Inspect(expr, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	var out []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if used[name] {
			spec := imp.Path.Value
			if imp.Name != nil {
				spec = imp.Name.Name + " " + spec
			}
			out = append(out, spec)
		}
	}
	return out
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ModuleRoot is the directory of go.mod above the working directory (make generate and the tests
// run inside the repository).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above %s", dir)
		}
		dir = parent
	}
}
