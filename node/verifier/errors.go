package verifier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/credledger/credledger/node/bundle"
	"github.com/credledger/credledger/node/light"
	"github.com/credledger/credledger/types"
)

var (
	// ErrStale means the newest header the light client verified is older
	// than the server's maximum age (WithMaxAge): the chain may be stuck,
	// and a latest-state verdict could miss newer state.
	ErrStale = errors.New("the newest verified header is too old")
	// ErrStopped means the server was stopped (Server.Stop) and no longer
	// asks the light client.
	ErrStopped = errors.New("the verifier is shutting down")
)

// ErrorJSON is the body of every error answer.
type ErrorJSON struct {
	Error string `json:"error"`
	// Issuers are the issuers with a record of the hash, when the answer
	// is 409 because the request did not name one of them.
	Issuers []string `json:"issuers,omitempty"`
}

// RequestError is a request the server refuses, with the HTTP status code
// that says why (4xx).
type RequestError struct {
	Code int
	Err  error
}

// Error returns the reason.
func (e *RequestError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *RequestError) Unwrap() error { return e.Err }

// badRequest returns a *RequestError with code and a formatted reason
// (%w wraps).
func badRequest(code int, format string, args ...any) error {
	return &RequestError{Code: code, Err: fmt.Errorf(format, args...)}
}

// StatusCode returns the HTTP status code of an error a Server answers
// with: a *RequestError's own code; 409 for several issuers and none
// named (*types.AmbiguousIssuerError); 502 for a node that lies (a bad
// proof, header or answer, a stale primary, a divergence, a trust root
// that does not match the chain); 504 for a timeout; 503 when no witness
// answers, the chain looks stuck (ErrStale) or the server is stopping;
// and 502 for any other failure
// to get a verified answer, since the input was checked before asking
// (a node that cannot be reached, for one). 500 is left for panics.
func StatusCode(err error) int {
	var re *RequestError
	var ambiguous *types.AmbiguousIssuerError
	switch {
	case errors.As(err, &re):
		return re.Code
	case errors.As(err, &ambiguous):
		return http.StatusConflict
	case lies(err):
		return http.StatusBadGateway
	case timedOut(err):
		return http.StatusGatewayTimeout
	case errors.Is(err, light.ErrNoWitness), errors.Is(err, ErrStale), errors.Is(err, ErrStopped), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadGateway
}

// lies reports whether err says a node served something false or
// inconsistent.
func lies(err error) bool {
	for _, target := range []error{
		light.ErrStalePrimary, light.ErrDivergence, light.ErrInvalidLightBlock, types.ErrProofInvalid,
		types.ErrMalformedAnswer, bundle.ErrHeaderNotVerified, bundle.ErrTrustRoot,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// timedOut reports whether err is a deadline that passed, the request's or
// a network one.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// errorJSON returns the body of an error answer.
func errorJSON(err error) ErrorJSON {
	j := ErrorJSON{Error: err.Error()}
	var ambiguous *types.AmbiguousIssuerError
	if errors.As(err, &ambiguous) {
		j.Issuers = ambiguous.Issuers
	}
	return j
}
