package client

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/credledger/credledger/types"
)

// fakeRPC answers every JSON-RPC call with an abci_query result holding
// value, after dropping the connection of the first drops calls (as a node
// closing a kept-alive connection the client reuses); with rpcErr it
// answers with that JSON-RPC error instead.
func fakeRPC(t *testing.T, drops int32, value []byte, rpcErr bool) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if n <= drops {
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			_ = conn.Close()
			return
		}
		var req struct {
			ID json.RawMessage `json:"id"`
		}
		require.NoError(t, json.Unmarshal(body, &req))
		w.Header().Set("Content-Type", "application/json")
		if rpcErr {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":"Internal error","data":"boom"}}`, req.ID)
			return
		}
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"response":{"code":0,"value":%q,"height":"5"}}}`,
			req.ID, base64.StdEncoding.EncodeToString(value))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestReadRetriesTransportFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		drops     int32
		rpcErr    bool
		wantErr   bool
		wantCalls int32
	}{
		{"answered", 0, false, false, 1},
		{"connection dropped once", 1, false, false, 2},
		{"dropped twice", 2, false, false, 3},
		{"dropped on every try", 3, false, true, 3},
		{"an error answer is not retried", 0, true, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := fakeRPC(t, tc.drops, types.EncodeSequence(7), tc.rpcErr)
			c, err := New(srv.URL)
			require.NoError(t, err)
			seq, err := c.Sequence(t.Context(), "issuer0")
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				require.Equal(t, uint64(7), seq)
			}
			require.Equal(t, tc.wantCalls, calls.Load())
		})
	}
}
