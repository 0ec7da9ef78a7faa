// Package motoserver starts the local stack's moto: serve.py, moto's own server with DynamoDB
// requests served one at a time and a cheaper transaction rollback, pinned to the moto version in
// infra/local/requirements.txt (docs/decisions/0020-serialized-local-dynamodb.md).
package motoserver

import (
	"path/filepath"
	"strconv"
)

// Python is the project virtualenv's interpreter under root (installed by `make tools`).
func Python(root string) string { return filepath.Join(root, ".tools", "venv", "bin", "python3") }

// Installed is a file that exists once `make tools` has installed moto into the virtualenv.
func Installed(root string) string {
	return filepath.Join(root, ".tools", "venv", "bin", "moto_server")
}

// Script is serve.py under root.
func Script(root string) string {
	return filepath.Join(root, "infra", "local", "motoserver", "serve.py")
}

// Args are Python's arguments to serve moto on host:port.
func Args(root, host string, port int) []string {
	return []string{Script(root), "-H", host, "-p", strconv.Itoa(port)}
}
