# loadgen — two commands do everything on a fresh machine:
#   make run    build and run the default scenario against the embedded mock
#   make test   vet, format check and the race-enabled test suite
GO       ?= go
BIN      ?= bin/loadgen
FUZZTIME ?= 30s
# make test also runs every fuzz target briefly, beyond its seed corpus.
FUZZTIME_SHORT ?= 3s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test lint fmt fmt-check vet bench fuzz clean generate

all: build

build:
	$(GO) build -o $(BIN) ./cmd/loadgen

run: build
	./$(BIN) run

test: vet fmt-check
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)
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
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin loadgen-out
