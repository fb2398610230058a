//go:build tools

// Package tools pins Plakar in go.mod; `go build github.com/PlakarKorp/plakar` builds it.
package tools

import _ "github.com/PlakarKorp/plakar"
