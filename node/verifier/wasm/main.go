//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"
	"time"
)

// main exposes the checker to JavaScript and waits forever (the
// functions are called from the page).
func main() {
	js.Global().Set("credledgerHash", js.FuncOf(jsHash))
	js.Global().Set("credledgerVerifyBundle", js.FuncOf(jsVerifyBundle))
	select {}
}

// jsHash is credledgerHash(credential: Uint8Array): a JSON string, a
// HashJSON or {"error": "..."}.
func jsHash(_ js.Value, args []js.Value) any {
	if len(args) != 1 {
		return errorJSON("credledgerHash takes the credential's bytes")
	}
	out, err := hashJSON(bytesOf(args[0]))
	if err != nil {
		return errorJSON(err.Error())
	}
	return string(out)
}

// jsVerifyBundle is credledgerVerifyBundle(bundle: Uint8Array, genesis:
// Uint8Array, target: {credential?: Uint8Array, hash?: string, issuer?:
// string, at_height?: number}): a JSON string, a VerdictJSON or {"error":
// "..."}.
func jsVerifyBundle(_ js.Value, args []js.Value) any {
	if len(args) < 2 || len(args) > 3 {
		return errorJSON("credledgerVerifyBundle takes the bundle's bytes, the genesis file's bytes and the target")
	}
	var t Target
	if len(args) == 3 && args[2].Type() == js.TypeObject {
		if c := args[2].Get("credential"); c.Type() == js.TypeObject {
			t.Credential = bytesOf(c)
		}
		if h := args[2].Get("hash"); h.Type() == js.TypeString {
			t.Hash = h.String()
		}
		if is := args[2].Get("issuer"); is.Type() == js.TypeString {
			t.Issuer = is.String()
		}
		if h := args[2].Get("at_height"); h.Type() == js.TypeNumber {
			t.AtHeight = int64(h.Int())
		}
	}
	out, err := verifyBundle(bytesOf(args[0]), bytesOf(args[1]), t, time.Now())
	if err != nil {
		return errorJSON(err.Error())
	}
	return string(out)
}

// bytesOf copies a Uint8Array (or a string, as UTF-8) into Go.
func bytesOf(v js.Value) []byte {
	if v.Type() == js.TypeString {
		return []byte(v.String())
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// errorJSON returns {"error": msg}.
func errorJSON(msg string) string {
	bz, _ := json.Marshal(map[string]string{"error": msg})
	return string(bz)
}
