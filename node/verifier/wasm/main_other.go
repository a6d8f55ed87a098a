//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main says how to build this program: for the browser only.
func main() {
	fmt.Fprintln(os.Stderr, "credledger's bundle checker runs in a browser: build it with GOOS=js GOARCH=wasm (scripts/wasmgen.sh)")
	os.Exit(2)
}
