package verifier_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
)

// mutateFn rewrites a JSON-RPC result (nil: leave it).
type mutateFn = func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage

// onQuery rewrites the abci_query answers for path.
func onQuery(path string, fn func(*coretypes.ResultABCIQuery) bool) mutateFn {
	return func(method string, params map[string]json.RawMessage, result json.RawMessage) json.RawMessage {
		if method != "abci_query" || paramString(params, "path") != path {
			return nil
		}
		return rewrite(result, fn)
	}
}

// rpcProxy forwards JSON-RPC to a real node and lets a test rewrite the
// result of chosen calls (node/light's test proxy, cut down).
type rpcProxy struct {
	srv    *httptest.Server
	target string
	mutate mutateFn
}

func newRPCProxy(t *testing.T, target string, mutate mutateFn) *rpcProxy {
	t.Helper()
	p := &rpcProxy{target: target, mutate: mutate}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// URL returns the proxy's address.
func (p *rpcProxy) URL() string { return p.srv.URL }

type rpcMessage struct {
	JSONRPC string                     `json:"jsonrpc"`
	ID      json.RawMessage            `json:"id"`
	Method  string                     `json:"method,omitempty"`
	Params  map[string]json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage            `json:"result,omitempty"`
	Error   json.RawMessage            `json:"error,omitempty"`
}

func (p *rpcProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req rpcMessage
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "proxy handles single JSON-RPC POSTs only", http.StatusBadRequest)
		return
	}
	resp, err := http.Post(p.target, "application/json", bytes.NewReader(body)) //nolint:noctx // test proxy
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var msg rpcMessage
	if p.mutate != nil && json.Unmarshal(out, &msg) == nil && len(msg.Result) > 0 {
		if changed := p.mutate(req.Method, req.Params, msg.Result); changed != nil {
			msg.Result = changed
			out, _ = json.Marshal(msg)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// rewrite decodes an RPC result into T with CometBFT's JSON codec, applies
// fn, and encodes it again; fn returns false to leave the result alone.
func rewrite[T any](result json.RawMessage, fn func(*T) bool) json.RawMessage {
	var v T
	if err := cmtjson.Unmarshal(result, &v); err != nil {
		panic(fmt.Sprintf("proxy: decode %T: %v", v, err))
	}
	if !fn(&v) {
		return nil
	}
	bz, err := cmtjson.Marshal(&v)
	if err != nil {
		panic(fmt.Sprintf("proxy: encode %T: %v", v, err))
	}
	return bz
}

// paramString returns a JSON-RPC string parameter ("" if absent).
func paramString(params map[string]json.RawMessage, key string) string {
	var s string
	_ = json.Unmarshal(params[key], &s)
	return s
}
