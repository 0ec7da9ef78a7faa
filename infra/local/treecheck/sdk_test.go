package treecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// DynamoDB SDK packages whose composite literals are "SDK inputs".
var sdkPackages = map[string]bool{
	"github.com/aws/aws-sdk-go-v2/service/dynamodb":       true,
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types": true,
}

// isRepositoryFile says where SDK inputs may be built: an area's repository files (repo*.go,
// decision 0038 and its followers) and the two table-layer packages every area writes through —
// store (keys, conditional writes, transactions, cursors; docs/developer-guide.md, "Where entities
// live") and audit (the audit record as a transaction item, so it lands in the same transaction as
// the change it records).
func isRepositoryFile(rel string) bool {
	rel = filepath.ToSlash(rel)
	base := filepath.Base(rel)
	switch {
	case strings.HasPrefix(base, "repo") && !strings.HasSuffix(base, "_test.go"):
		return true
	case strings.HasPrefix(rel, "shared/store/"), strings.HasPrefix(rel, "shared/audit/"):
		return true
	}
	return false
}

// sdkInputs lists every composite literal of a DynamoDB SDK type in a non-test Go file under
// shared/, as "path:line Type".
func sdkInputs(t *testing.T, root string) (inRepos, elsewhere []string) {
	t.Helper()
	err := filepath.Walk(filepath.Join(root, "shared"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		names := map[string]bool{} // local names of the SDK packages in this file
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !sdkPackages[p] {
				continue
			}
			name := filepath.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = true
		}
		if len(names) == 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || lit.Type == nil {
				return true
			}
			typ := lit.Type
			if u, ok := typ.(*ast.StarExpr); ok {
				typ = u.X
			}
			sel, ok := typ.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] {
				at := rel + ":" + strconv.Itoa(fset.Position(lit.Pos()).Line) + " " + id.Name + "." + sel.Sel.Name
				if isRepositoryFile(rel) {
					inRepos = append(inRepos, at)
				} else {
					elsewhere = append(elsewhere, at)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(elsewhere)
	return inRepos, elsewhere
}

// Only repository files build DynamoDB inputs (issue 15): a rule, a handler or a job that needs the
// table asks a port its area owns, so it can run on a fake and the table's shape has one home per
// area.
func TestSDKInputsOnlyInRepositoryFiles(t *testing.T) {
	inRepos, elsewhere := sdkInputs(t, repoRoot(t))
	if len(inRepos) == 0 {
		t.Fatal("found no SDK inputs at all: the scan is broken")
	}
	for _, at := range elsewhere {
		t.Errorf("DynamoDB SDK input outside a repository file: %s", at)
	}
	t.Logf("%d SDK input literals, all in repository files", len(inRepos))
}
