package verifier

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/credledger/credledger/types"
	"github.com/credledger/credledger/types/credential"
	"github.com/credledger/credledger/types/credhash"
)

// credential answers GET /v1/credentials/{hash}[?issuer=ID][&at_height=N | &at_time=T]:
// the verdict about the hash, about the record of the issuer ID names (a
// member id or one of its identifiers) if given.
func (s *Server) credential(_ http.ResponseWriter, r *http.Request) (*reply, error) {
	hash, err := parseHash(r.PathValue("hash"))
	if err != nil {
		return nil, err
	}
	at, err := parsePast(r)
	if err != nil {
		return nil, err
	}
	var claims types.Claims
	if r.URL.Query().Has("issuer") {
		if claims.Issuer = r.URL.Query().Get("issuer"); claims.Issuer == "" {
			return nil, badRequest(http.StatusBadRequest, "issuer is empty: give a member id or one of its identifiers (a DID or URL), or leave the parameter out")
		}
	}
	rep, err := s.verify(r.Context(), hash, at)
	if err != nil {
		return nil, err
	}
	if err := applyClaims(rep, claims, "name one with ?issuer=ID (a member id or one of its identifiers), or POST the credential to /v1/verify"); err != nil {
		return nil, err
	}
	return &reply{body: s.verdictJSON(rep), verdict: rep.Verdict}, nil
}

// verifyCredential answers POST /v1/verify[?issuer=ID][&at_height=N | &at_time=T]: the
// verdict about the credential in the body, hashed as "credledger hash"
// does, with its own claims (issuer, validity period) checked, and the
// checks that led to it.
func (s *Server) verifyCredential(w http.ResponseWriter, r *http.Request) (*reply, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	at, err := parsePast(r)
	if err != nil {
		return nil, err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	sum, canonical, err := credhash.Sum(body)
	switch {
	case errors.Is(err, credhash.ErrTooLarge):
		return nil, badRequest(http.StatusRequestEntityTooLarge, "credential: %w", err)
	case err != nil:
		return nil, badRequest(http.StatusBadRequest, "credential: %w", err)
	case !canonical:
		return nil, badRequest(http.StatusBadRequest, "credential: the body is not JSON; POST a JSON credential, or hash another file with \"credledger hash\" and GET /v1/credentials/{hash}")
	}
	claims, err := credential.Parse(body)
	if err != nil {
		return nil, badRequest(http.StatusBadRequest, "credential: %w", err)
	}
	if q := r.URL.Query(); q.Has("issuer") {
		switch issuer := q.Get("issuer"); {
		case issuer == "":
			return nil, badRequest(http.StatusBadRequest, "issuer is empty: give a member id or one of its identifiers, or leave the parameter out")
		case claims.Issuer != "" && claims.Issuer != issuer:
			return nil, badRequest(http.StatusBadRequest, "issuer %q: the credential names issuer %q", issuer, claims.Issuer)
		default:
			claims.Issuer = issuer
		}
	}
	rep, err := s.verify(r.Context(), sum[:], at)
	if err != nil {
		return nil, err
	}
	if err := applyClaims(rep, claims, "the credential names no issuer: name one with ?issuer=ID (a member id or one of its identifiers)"); err != nil {
		return nil, err
	}
	out := VerifyJSON{VerdictJSON: s.verdictJSON(rep), Checks: NewChecks(rep)}
	return &reply{body: out, verdict: rep.Verdict}, nil
}

// bundle answers GET /v1/credentials/{hash}/bundle[?at_height=N | ?at_time=T]: the proof
// bundle about the hash, in the format "credledger prove" writes.
func (s *Server) bundle(_ http.ResponseWriter, r *http.Request) (*reply, error) {
	hash, err := parseHash(r.PathValue("hash"))
	if err != nil {
		return nil, err
	}
	at, err := parsePast(r)
	if err != nil {
		return nil, err
	}
	b, err := s.prove(r.Context(), hash, at)
	if err != nil {
		return nil, err
	}
	bz, err := b.Encode()
	if err != nil {
		return nil, fmt.Errorf("encode the bundle: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("%x.bundle.json", hash)))
	return &reply{raw: bz, header: h}, nil
}

// healthz answers GET /healthz: 200 with the newest verified header once
// the light client verified the latest state, else 503 with the reason
// (see Ready).
func (s *Server) healthz(_ http.ResponseWriter, r *http.Request) (*reply, error) {
	h, err := s.Ready(r.Context())
	if err != nil {
		return &reply{code: http.StatusServiceUnavailable, body: h}, nil
	}
	return &reply{body: h}, nil
}

// applyClaims applies claims to rep; for several issuers and none named,
// the error says how to name one (hint) and keeps the
// *types.AmbiguousIssuerError (409).
func applyClaims(rep *types.Report, claims types.Claims, hint string) error {
	err := rep.ApplyClaims(claims)
	var ambiguous *types.AmbiguousIssuerError
	if errors.As(err, &ambiguous) {
		return &hintError{
			msg: fmt.Sprintf("credential %x has records of several issuers (%s): %s", ambiguous.Hash, strings.Join(ambiguous.Issuers, ", "), hint),
			err: err,
		}
	}
	return err
}

// hintError replaces the message of err, which it wraps.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// parseHash reads a credential hash: 64 hex digits.
func parseHash(s string) ([]byte, error) {
	h, err := types.ParseHash(s)
	if err != nil {
		return nil, badRequest(http.StatusBadRequest, "hash: want the SHA-256 credential hash as 64 hex digits: %w", err)
	}
	return h, nil
}

// parsePast reads the at_height parameter (a positive integer) or the
// at_time parameter (an RFC 3339 time), at most one of them; zero for
// neither (the latest state).
func parsePast(r *http.Request) (pastPoint, error) {
	q := r.URL.Query()
	var at pastPoint
	if q.Has("at_height") && q.Has("at_time") {
		return at, badRequest(http.StatusBadRequest, "give at_height or at_time, not both")
	}
	if q.Has("at_time") {
		s := q.Get("at_time")
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return at, badRequest(http.StatusBadRequest, "at_time %q: want an RFC 3339 time such as 2026-03-01T00:00:00Z", s)
		}
		at.time = t
		return at, nil
	}
	if !q.Has("at_height") {
		return at, nil
	}
	s := q.Get("at_height")
	h, err := strconv.ParseInt(s, 10, 64)
	if err != nil || h <= 0 || s[0] == '+' {
		return at, badRequest(http.StatusBadRequest, "at_height %q: want a state height, a positive integer", s)
	}
	at.height = h
	return at, nil
}

// checkContentType accepts no content type, application/json, and JSON
// types with the +json suffix (such as application/ld+json).
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return nil
	}
	return badRequest(http.StatusUnsupportedMediaType, "content type %q: POST the credential as application/json", ct)
}

// readBody reads the request body, refusing one larger than the max body
// with 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := func() error {
		return badRequest(http.StatusRequestEntityTooLarge, "credential larger than the limit of %d bytes", s.cfg.maxBody)
	}
	if r.ContentLength > s.cfg.maxBody {
		return nil, tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge()
	case err != nil:
		return nil, badRequest(http.StatusBadRequest, "read the credential: %w", err)
	}
	return body, nil
}
