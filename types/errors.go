package types

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// CodeError is a rejection of a transaction or query: a result code plus a
// message a person understands. Hash, when set, is the credential hash that
// caused the rejection.
type CodeError struct {
	Code Code
	Hash []byte
	Msg  string
}

// Error returns the message, prefixed with the offending hash if there is one.
func (e *CodeError) Error() string {
	if len(e.Hash) > 0 {
		return fmt.Sprintf("credential %s: %s", hex.EncodeToString(e.Hash), e.Msg)
	}
	return e.Msg
}

// Errorf returns a *CodeError with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *CodeError {
	return &CodeError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// HashErrorf returns a *CodeError that names the credential hash it concerns.
func HashErrorf(code Code, hash []byte, format string, args ...any) *CodeError {
	return &CodeError{Code: code, Hash: hash, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err if it is (or wraps) a *CodeError, and
// CodeInternal otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var te *CodeError
	if errors.As(err, &te) {
		return te.Code
	}
	return CodeInternal
}

// Sentinel errors returned by the proof checker. Match them with errors.Is.
var (
	// ErrProofInvalid means a proof does not verify against the app hash.
	ErrProofInvalid = errors.New("proof does not verify against the app hash")
	// ErrMalformedAnswer means a query answer could not be decoded or is inconsistent.
	ErrMalformedAnswer = errors.New("malformed query answer")
)
