package types

import "time"

// Report is a credential verdict whose proofs were checked against the app
// hash of one header. Whether that header deserves trust depends on who
// made the report: node/client takes it from the node it asks (and trusts
// that node), node/light verifies it with the light client from a trust
// root, node/bundle verifies it offline from the bundle's trust root.
type Report struct {
	*CredentialResult
	ChainID string
	// Height is the state height the answer is about.
	Height int64
	// HeaderHeight is the header whose app hash the proofs were checked
	// against (Height+1, or Height when block Height changed no state).
	HeaderHeight int64
	HeaderTime   time.Time
	// HeaderHash is the hash of the header (set when it was verified).
	HeaderHash []byte
	AppHash    []byte
	// IssuerRecord is the record of the issuer the verdict names, proven
	// against the same header; nil if it was not checked, if the verdict
	// names no issuer, or if the proof shows there is no such issuer.
	IssuerRecord *Issuer
}

// IssuerStatus returns "active" or "removed" and the height since which
// (joined or left), or "" if there is no issuer record.
func (r *Report) IssuerStatus() (string, int64) {
	is := r.IssuerRecord
	if is == nil {
		return "", 0
	}
	if is.Status == IssuerStatus_ISSUER_STATUS_REMOVED {
		return is.Status.StatusWord(), is.LeftHeight
	}
	return is.Status.StatusWord(), is.JoinedHeight
}
