//go:build !(linux || darwin)

package main

// takeTerminal is a no-op where process groups and terminals work differently.
func takeTerminal() (giveBack func()) { return func() {} }
