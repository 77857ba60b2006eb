# mscli — build, test, demo. Everything a fresh machine needs is installed here.
SHELL   := /bin/bash
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/mscli
LDFLAGS := -s -w -X main.version=$(VERSION)
PKGS    := ./...

.PHONY: all build test test-short demo bench fuzz soak deps image images examples clean-runs

all: build

## build: the static mscli binary (every role: CLI, fixtures, broker) in bin/mscli
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mscli

## deps: system packages the tests use (PostgreSQL for the bank fixture's tests, tmux and chromium for the TUI and HTML report tests)
deps:
	@if ! command -v /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL (the bank fixture's tests start a real one)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@missing=""; command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v debootstrap >/dev/null 2>&1 || missing="$$missing debootstrap"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (the terminal UI and HTML report tests drive them)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## image: mscli:<version> from bin/mscli, for the docker testbed (when a Docker engine answers)
image: build
	@if docker info >/dev/null 2>&1; then ./$(BIN) images build; \
	else echo "no Docker engine answers: runs use the local testbed"; fi

## images: image, and the offline PostgreSQL image (debootstrap, no registry) unless the official one is here; an offline image of the same recipe is kept
images: deps image
	@if docker info >/dev/null 2>&1; then \
		docker image inspect postgres:16-alpine >/dev/null 2>&1 || ./$(BIN) images build --postgres; \
	fi

## examples: the example service of examples/ (its own module): its binary, and its image when Docker answers
examples:
	$(MAKE) -C examples vet bin
	@if docker info >/dev/null 2>&1; then $(MAKE) -C examples image; fi

## test: vet and race-test everything (starts real NATS, PostgreSQL, toxiproxy, processes, containers)
test: deps build images examples
	$(GO) vet $(PKGS)
	MSCLI_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 60m $(PKGS)

## demo: the main job — run the bank scenario on this machine (in containers when Docker answers)
demo: image
	./$(BIN) run bank-idempotency --seed 1

## bench: every benchmark BENCHCOUNT (3) times, one package at a time (-p 1: two packages' benchmarks side by side took each other's processor), then the performance figures as a table: each one's median, its target, met or not
BENCHTIME  ?= 3x
BENCHCOUNT ?= 3
bench: deps images
	set -o pipefail; MSCLI_BIN=$(CURDIR)/$(BIN) $(GO) test -p 1 -run '^$$' -bench . -benchtime $(BENCHTIME) -count $(BENCHCOUNT) -timeout 60m $(PKGS) | $(GO) run ./internal/benchtable

## fuzz: fuzz the scenario loader, the record decoder and the observation's decoders, FUZZTIME each (default 60s; a count such as 10000000x works too)
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./scenarios
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./history
	$(GO) test -run '^$$' -fuzz FuzzObserve -fuzztime $(FUZZTIME) ./runner

## soak: SOAK_RUNS (50) runs interrupted at random points with SIGINT or SIGKILL on both testbeds, one mscli clean, zero leftovers asserted; then SOAK_PAIRS (20) pairs of runs at once, each with the verdicts of the scenario alone (about 40 minutes)
SOAK_RUNS  ?= 50
SOAK_PAIRS ?= 20
soak: build images
	SOAK_RUNS=$(SOAK_RUNS) SOAK_PAIRS=$(SOAK_PAIRS) MSCLI_BIN=$(CURDIR)/$(BIN) $(GO) test -tags soak -count=1 -run '^TestSoak$$' -v -timeout 3h ./cmd/mscli

## clean-runs: remove recorded runs
clean-runs:
	rm -rf .mscli/runs
