// Package apispec loads docs/openapi.yaml, the one OpenAPI 3.1 description of the HTTP API, for its
// contract tests: the document lists exactly the manifest's routes, and the responses of the real
// handlers validate against it (docs/decisions/0014). The document stays at docs/openapi.yaml, the
// single source; nothing here copies or embeds it.
package apispec

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/getkin/kin-openapi/openapi3"
)

// Path is the document's location: docs/openapi.yaml under the repository root.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
}

// Load reads and validates the document. External references are refused: the document is
// self-contained.
func Load(ctx context.Context) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx
	doc, err := loader.LoadFromFile(Path())
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", Path(), err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate %s: %w", Path(), err)
	}
	return doc, nil
}
