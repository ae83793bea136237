# loadgen — two commands do everything on a fresh machine:
#   make run    build and run the default scenario against the embedded mock
#   make test   vet, format check and the race-enabled test suite
GO       ?= go
BIN      ?= bin/loadgen
FUZZTIME ?= 30s
FUZZMIN  ?= 2s
# make test also runs every fuzz target briefly, beyond its seed corpus. The
# budget is a count, not a duration: Go 1.26's fuzz coordinator can fail a
# duration-bounded run with a spurious "context deadline exceeded" on a
# loaded machine (golang/go#75804, fixed in Go 1.27).
FUZZTIME_SHORT ?= 10000x
FUZZMIN_SHORT  ?= 50x
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test lint fmt fmt-check vet bench fuzz clean generate

all: build

build:
	$(GO) build -o $(BIN) ./cmd/loadgen

run: build
	./$(BIN) run

test: vet fmt-check
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT) FUZZMIN=$(FUZZMIN_SHORT)
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w .

lint: vet fmt-check
	$(GO) run $(STATICCHECK) ./...

generate:
	$(GO) generate ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin loadgen-out
