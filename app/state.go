package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/credledger/credledger/types"
)

// reader reads state.
type reader interface {
	Get(key []byte) ([]byte, error)
}

// overlay stages writes over a reader. A nil value in writes is a delete.
// Writes are collected in a map and turned into a sorted list only when
// applied, so map iteration order never reaches the state.
type overlay struct {
	base   reader
	writes map[string][]byte
}

func newOverlay(base reader) *overlay {
	return &overlay{base: base, writes: make(map[string][]byte)}
}

// Get returns the staged value of key, or the base value.
func (o *overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, nil
	}
	return o.base.Get(key)
}

// set stages a write.
func (o *overlay) set(key, value []byte) { o.writes[string(key)] = value }

// mergeInto moves the staged writes into parent.
func (o *overlay) mergeInto(parent *overlay) {
	for k, v := range o.writes {
		parent.writes[k] = v
	}
}

// kvs returns the staged writes (unordered; Store.Apply sorts them).
func (o *overlay) kvs() []KV {
	out := make([]KV, 0, len(o.writes))
	for k, v := range o.writes {
		out = append(out, KV{Key: []byte(k), Value: v})
	}
	return out
}

// typed accessors shared by every execution path

func getParams(r reader) (types.Params, error) {
	var p types.Params
	bz, err := r.Get(types.ParamsKey())
	if err != nil {
		return p, err
	}
	if bz == nil {
		return p, fmt.Errorf("params missing from state")
	}
	if err := p.Unmarshal(bz); err != nil {
		return p, fmt.Errorf("decode params: %w", err)
	}
	return p, nil
}

func getChainID(r reader) (string, error) {
	bz, err := r.Get(types.ChainIDKey())
	if err != nil {
		return "", err
	}
	return string(bz), nil
}

// getIssuer returns the issuer record, or nil if there is none.
func getIssuer(r reader, id string) (*types.Issuer, error) {
	bz, err := r.Get(types.IssuerKey(id))
	if err != nil || bz == nil {
		return nil, err
	}
	var is types.Issuer
	if err := is.Unmarshal(bz); err != nil {
		return nil, fmt.Errorf("decode issuer %q: %w", id, err)
	}
	return &is, nil
}

func getSequence(r reader, id string) (uint64, error) {
	bz, err := r.Get(types.SequenceKey(id))
	if err != nil {
		return 0, err
	}
	seq, err := types.DecodeSequence(bz)
	if err != nil {
		return 0, fmt.Errorf("issuer %q: %w", id, err)
	}
	return seq, nil
}

// getCredential returns every issuer's record of hash (empty if none).
func getCredential(r reader, hash []byte) (*types.CredentialRecord, error) {
	bz, err := r.Get(types.CredentialKey(hash))
	if err != nil || bz == nil {
		return &types.CredentialRecord{}, err
	}
	var rec types.CredentialRecord
	if err := rec.Unmarshal(bz); err != nil {
		return nil, fmt.Errorf("decode credential record %X: %w", hash, err)
	}
	return &rec, nil
}

// entryOf returns issuer's entry in rec, inserted (empty) in issuer-id
// order if it has none yet.
func entryOf(rec *types.CredentialRecord, issuer string) *types.CredentialEntry {
	i, found := slices.BinarySearchFunc(rec.Entries, issuer, func(e *types.CredentialEntry, id string) int { return strings.Compare(e.IssuerId, id) })
	if !found {
		rec.Entries = slices.Insert(rec.Entries, i, &types.CredentialEntry{IssuerId: issuer})
	}
	return rec.Entries[i]
}

// findEntry returns issuer's entry in rec, or nil.
func findEntry(rec *types.CredentialRecord, issuer string) *types.CredentialEntry {
	i, found := slices.BinarySearchFunc(rec.Entries, issuer, func(e *types.CredentialEntry, id string) int { return strings.Compare(e.IssuerId, id) })
	if !found {
		return nil
	}
	return rec.Entries[i]
}

type marshaler interface{ Marshal() ([]byte, error) }

func setRecord(o *overlay, key []byte, m marshaler) error {
	bz, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("encode record %X: %w", key, err)
	}
	o.set(key, bz)
	return nil
}
