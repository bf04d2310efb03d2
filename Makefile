# The two commands a newcomer needs: `sudo make demo` and `make test`.
GO       ?= go
BIN      ?= bin
FUZZTIME ?= 3s
PKGS     := ./...

.PHONY: all build test deps check unit fuzz demo completions bench clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/knock ./cmd/knockd

## test: install what the lab tests need, then run every check and test.
test: deps check fuzz unit

deps:
	@scripts/deps.sh

check:
	@unformatted=$$(gofmt -l .); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

## fuzz: run every fuzz target for FUZZTIME (make fuzz FUZZTIME=5m for a long run).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
	  done; \
	done

## completions: regenerate completions/ from the command tree (a test fails when they drift).
completions:
	$(GO) test ./internal/knockcmd -run '^TestCompletionsUpToDate$$' -update

## bench: Go benchmarks, including knock PROFILE against knock 0.8 in a lab (needs root).
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./internal/knockcmd

## demo: our knock opens a door of our knockd in a lab namespace (needs root).
demo: deps build
	@scripts/demo.sh $(BIN)/knock $(BIN)/knockd

clean:
	rm -rf $(BIN)
