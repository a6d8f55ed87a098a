# credledger — build, run and test.
GO      ?= go
BIN     := build/credledger
# FUZZTIME is how long each fuzz target runs: 10s in fuzz-smoke (make test)
# and 10m in fuzz unless given (make fuzz FUZZTIME=30s)
# the version and commit credledger version prints (see cmd/credledger/version.go)
LDFLAGS := -ldflags "-X main.version=$(shell git describe --tags --dirty 2>/dev/null) -X main.commit=$(shell git describe --always --dirty --abbrev=40 --exclude='*' 2>/dev/null)"

.PHONY: all build run install test test-unit fuzz-smoke fuzz faults proto proto-check wasm wasm-check bench lint clean

all: build

## build: compile the credledger binary into build/
build:
	$(GO) build $(LDFLAGS) -o $(BIN) ./cmd/credledger

## run: run a single-validator dev node in ~/.credledger-dev (initialised on first run)
run: build
	./$(BIN) dev

## install: install credledger into $(go env GOPATH)/bin
install:
	$(GO) install $(LDFLAGS) ./cmd/credledger

## test: vet, all tests with the race detector, short fuzz runs, generated-code and wasm checks
test: test-unit fuzz-smoke proto-check wasm-check

test-unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

## fuzz-smoke: run every fuzz target briefly (FUZZTIME each, default 10s); stops at the first failure
fuzz-smoke: FUZZTIME ?= 10s
fuzz-smoke:
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME)

## fuzz: run every fuzz target for FUZZTIME each (default 10m), then print each target's executions
fuzz: FUZZTIME ?= 10m
fuzz:
	GO=$(GO) scripts/fuzz.sh -k $(FUZZTIME)

## faults: the long fault test (4 validators under load: kill -9, SIGSTOP, kill -9 of the anchor's node and resume, kill -9 of all, full disk; 3 rounds, 100,000-hash files); prints "faults:" figures
faults:
	@mkdir -p build; echo "long fault test: the full log goes to build/faults.log"; \
	CREDLEDGER_FAULTS=long $(GO) test -run '^TestFaults$$' -count=1 -timeout 90m -v ./cmd/credledger/ > build/faults.log 2>&1; status=$$?; \
	grep -E 'faults:|^(--- |ok|FAIL)' build/faults.log; exit $$status

## proto: regenerate types/*.pb.go from proto/
proto:
	scripts/protocgen.sh

## proto-check: fail if types/*.pb.go are stale (skipped when protoc is not installed)
proto-check:
	@if command -v protoc >/dev/null && [ -x "$$($(GO) env GOPATH)/bin/protoc-gen-gocosmos" ]; then \
	  scripts/protocgen.sh --check; \
	else echo "proto-check skipped: protoc or protoc-gen-gocosmos not installed (see scripts/protocgen.sh)"; fi

## wasm: rebuild the verifier page's bundle checker (node/verifier/web/credledger.wasm.gz) and wasm_exec.js
wasm:
	scripts/wasmgen.sh

## wasm-check: fail if the committed wasm is not what this source and Go toolchain build
wasm-check:
	scripts/wasmgen.sh --check

## bench: benchmarks of the state machine (prints figures; see README)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./app/ ./types/

## lint: gofmt and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'); exit 1; }
	$(GO) vet ./...

clean:
	rm -rf build
