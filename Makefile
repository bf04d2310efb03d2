# The two commands a newcomer needs: `sudo make demo` and `make test`.
GO       ?= go
BIN      ?= bin
# Counted, not timed: a timed -fuzztime can fail spuriously with "context
# deadline exceeded" on Go 1.26 (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 100000x
# goreleaser on PATH, else the pinned version through the module proxy.
GORELEASER ?= $(shell command -v goreleaser || echo go run github.com/goreleaser/goreleaser/v2@v2.15.1)
PKGS     := ./...

.PHONY: all build test deps check unit fuzz demo completions bench cross-check release-check release-snapshot release-test clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/knock ./cmd/knockd

## test: install what the lab tests need, then run every check and test.
## goreleaser check, which compiles goreleaser itself (two minutes from an
## empty module cache), runs in release-test, as CI does.
## Every fuzz target's seeds and kept failures (the regressions) run as
## unit tests here; exploring further (make fuzz, FUZZTIME runs of each
## target) is the longer search CI runs after make test, which keeps make
## test within ten minutes from empty Go caches.
test: deps check cross-check unit

deps:
	@scripts/deps.sh

check:
	@unformatted=$$(gofmt -l .); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	CGO_ENABLED=0 $(GO) vet -trimpath $(PKGS) ./internal/knockcmd/testdata/floor/...

## unit: internal/archtest builds and emulates every Linux architecture,
## minutes from empty caches: hence the longer timeout. -p 3: three test
## binaries at once, as the lab-heavy ones mostly wait.
unit:
	$(GO) test -race -count=1 -timeout 30m -p 3 $(PKGS)

## fuzz: run every fuzz target for FUZZTIME executions (make fuzz FUZZTIME=50000000x for a long run),
## in a copy of the tree, so a failing input never lands in the tree the unit tests read.
fuzz:
	@GO="$(GO)" FUZZTIME="$(FUZZTIME)" scripts/fuzz.sh

## completions: regenerate completions/ from the command tree (a test fails when they drift).
completions:
	$(GO) test ./internal/knockcmd -run '^TestCompletionsUpToDate$$' -update

## bench: Go benchmarks (per-packet cost of knockd's decoder and state machine), then the lab
## benchmarks against the C tools (needs root): knock PROFILE against knock 0.8, and knockd under
## a flood of spoofed SYNs against knockd 0.8.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./server
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./internal/knockcmd ./internal/knockdcmd

## cross-check: every system we release for type-checks, tests included (part of make test).
cross-check:
	scripts/cross-check.sh

## release-check: goreleaser check, and every system compiles.
release-check: cross-check
	$(GORELEASER) check

## release-snapshot: the whole release (archives, deb/rpm/apk, checksums) in dist/, nothing published.
release-snapshot:
	$(GORELEASER) release --snapshot --clean --skip=publish,sign

## release-test: release-snapshot, then run the binaries, completions and files of the amd64 .deb (CI).
release-test:
	GORELEASER="$(GORELEASER)" scripts/release-test.sh

## demo: our knock opens a door of our knockd in a lab namespace (needs root).
demo: deps build
	@scripts/demo.sh $(BIN)/knock $(BIN)/knockd

clean:
	rm -rf $(BIN) dist .release
