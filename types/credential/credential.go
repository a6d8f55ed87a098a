package credential

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credledger/credledger/types"
)

// ErrBadClaim means a credential's issuer or date field has a form that
// cannot be read (for example a validUntil that is not a date-time).
var ErrBadClaim = errors.New("credential field cannot be read")

// Member names Parse reads. They are matched exactly: encoding/json's
// struct decoding matches names ignoring case (and Unicode folds such as
// "ſ" for "s"), so {"issuer":"a","Issuer":"b"} would read as issuer b
// while every JSON-LD processor reads a.
const (
	memberIssuer         = "issuer"
	memberValidFrom      = "validFrom"
	memberValidUntil     = "validUntil"
	memberIssuanceDate   = "issuanceDate"
	memberExpirationDate = "expirationDate"
	memberID             = "id"
)

// Parse reads the claims of a JSON credential. Input that is not a JSON
// object (a credential hashed as raw bytes, say) has no claims: the zero
// Claims and no error. A JSON object whose issuer or dates have another
// form than the standards allow is an error wrapping ErrBadClaim.
//
// The issuer is the "issuer" member: a string, or an object whose "id" is a
// string. The validity period is VC 2.0's validFrom/validUntil; where a
// credential has only VC 1.1's issuanceDate/expirationDate, those. Dates
// are XML Schema dateTimes as RFC 3339 writes them; one without a time
// zone is read as UTC.
func Parse(data []byte) (types.Claims, error) {
	body := bytes.TrimLeft(bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF}), " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return types.Claims{}, nil
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(body, &f); err != nil {
		return types.Claims{}, nil // not JSON after all: hashed raw, no claims
	}
	var c types.Claims
	var err error
	if c.Issuer, err = issuerOf(f[memberIssuer]); err != nil {
		return types.Claims{}, err
	}
	from, until := f[memberValidFrom], f[memberValidUntil]
	if absent(from) && absent(until) {
		from, until = f[memberIssuanceDate], f[memberExpirationDate]
	}
	if c.ValidFrom, err = dateOf("validFrom", from); err != nil {
		return types.Claims{}, err
	}
	if c.ValidUntil, err = dateOf("validUntil", until); err != nil {
		return types.Claims{}, err
	}
	return c, nil
}

// issuerOf reads an issuer member: a string, or an object with a string id.
func issuerOf(raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil && !absent(obj[memberID]) && json.Unmarshal(obj[memberID], &s) == nil {
		return s, nil
	}
	return "", fmt.Errorf("%w: issuer must be a string or an object with a string id", ErrBadClaim)
}

// absent reports whether a member is missing or null.
func absent(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// dateOf reads a date-time member (absent: the zero time).
func dateOf(name string, raw json.RawMessage) (time.Time, error) {
	if absent(raw) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, fmt.Errorf("%w: %s must be a date-time string such as 2026-01-31T12:00:00Z", ErrBadClaim, name)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s %q is not a date-time such as 2026-01-31T12:00:00Z", ErrBadClaim, name, s)
}
