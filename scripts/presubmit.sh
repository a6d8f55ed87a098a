#!/usr/bin/env bash
# Presubmit: formatting, vet and the full test suite (the README's `make test`).
set -eu

usage() { echo "usage: $0   (runs gofmt check, go vet, make test)" >&2; }
case "${1:-}" in -h|--help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac

cd "$(dirname "$0")/.."
make lint
make test
