package credhash

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"hash"
	"io"
)

// streamBufSize is the size of the buffer input is read through.
const streamBufSize = 64 << 10

// readError is a failure to read the input, rather than a verdict on its bytes.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// errOverLimit stops the JSON scanner once the input is larger than the limit.
var errOverLimit = errors.New("input larger than the JSON limit")

// tee hashes and counts every byte read through it and, while keep is set,
// keeps a copy of them in buf, giving up the copy once more than limit
// bytes have been read.
type tee struct {
	r     io.Reader
	sha   hash.Hash
	n     int64
	limit int64
	keep  bool
	buf   []byte
	over  bool  // more than limit bytes were read
	err   error // the first read error other than io.EOF
}

func (t *tee) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	t.sha.Write(p[:n]) //nolint:errcheck // never fails
	t.n += int64(n)
	if t.n > t.limit {
		t.over, t.keep, t.buf = true, false, nil
	}
	if t.keep {
		t.buf = append(t.buf, p[:n]...)
	}
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// stopKeeping drops the copy: the input is hashed raw.
func (t *tee) stopKeeping() { t.keep, t.buf = false, nil }

// rawResult returns the hash of all bytes read.
func (t *tee) rawResult() result {
	var res result
	t.sha.Sum(res.hash[:0])
	return res
}

// sumStream hashes what r yields by the rules, agreeing with sumBytes on
// the same bytes; subject names the input in errors. A read error is
// returned as a *readError.
func sumStream(r io.Reader, ru rules, subject string) (result, error) {
	t := &tee{r: r, sha: sha256.New(), limit: ru.limit, keep: !ru.raw}
	br := bufio.NewReaderSize(t, streamBufSize)
	first, err := skipSpace(br)
	switch {
	case t.err != nil:
		return result{}, &readError{t.err}
	case err == io.EOF:
		return result{}, emptyError(subject, t.n)
	case err != nil:
		return result{}, &readError{err}
	}
	if ru.raw {
		if err := drain(br, t, false); err != nil {
			return result{}, err
		}
		return t.rawResult(), nil
	}
	if ru.jsonName || looksJSON(first) {
		// must be JSON: read it all, unless it is too large
		if err := drain(br, t, true); err != nil {
			return result{}, err
		}
		if t.over {
			return result{}, tooLargeError(subject, ru.limit)
		}
		return sumBytes(t.buf, ru, subject)
	}
	// JSON only if it is one JSON scalar: rule that out as early as possible
	if err := br.UnreadByte(); err != nil {
		return result{}, &readError{err}
	}
	notJSON := !maybeJSONValue(&limitReader{r: br, t: t})
	if t.err != nil {
		return result{}, &readError{t.err}
	}
	if notJSON {
		t.stopKeeping()
	}
	if err := drain(br, t, false); err != nil {
		return result{}, err
	}
	if t.keep {
		return sumBytes(t.buf, ru, subject)
	}
	return t.rawResult(), nil
}

// skipSpace skips an optional UTF-8 byte order mark and JSON whitespace
// and returns the first other byte, or io.EOF if there is none.
func skipSpace(br *bufio.Reader) (byte, error) {
	if p, _ := br.Peek(len(utf8BOM)); string(p) == string(utf8BOM) {
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return 0, err
		}
	}
	for {
		c, err := br.ReadByte()
		if err != nil || !isJSONSpace(c) {
			return c, err
		}
	}
}

// drain reads br to its end, or, if stopOver, until more than the limit has
// been read. A read error is returned as a *readError.
func drain(br *bufio.Reader, t *tee, stopOver bool) error {
	for !stopOver || !t.over {
		// Discard reads through br's own buffer
		_, err := br.Discard(streamBufSize)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &readError{err}
		}
	}
	return nil
}

// limitReader fails with errOverLimit once the tee has read more than its
// limit, so that the JSON scanner cannot buffer more.
type limitReader struct {
	r io.Reader
	t *tee
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.t.over {
		return 0, errOverLimit
	}
	return l.r.Read(p)
}

// skipValue decodes any JSON value into nothing.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// maybeJSONValue reports whether r may hold one JSON value followed by
// nothing but whitespace. It returns false only if it is sure that r does
// not: there is a syntax error, a second value, or more than the limit,
// which all make sumBytes hash the input raw.
func maybeJSONValue(r io.Reader) bool {
	dec := json.NewDecoder(r)
	if err := dec.Decode(new(skipValue)); err != nil {
		return !ruledOut(err)
	}
	err := dec.Decode(new(skipValue))
	if err == io.EOF {
		return true
	}
	return err != nil && !ruledOut(err)
}

// ruledOut reports whether a decoding error proves the input is not JSON.
func ruledOut(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errOverLimit)
}
