# Two commands matter: `make demo` (the main job against a local AWS endpoint) and
# `make test` (the whole suite). Both create or reuse .venv/ and install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(VENV)/collections
BUILD := $(CURDIR)/.build
ANSIBLE_TEST_HOME := $(VENV)/ansible-test-home
ANSIBLE_TEST_ROOT := $(BUILD)/ansible_collections/mfa/aws
STAMP := $(VENV)/.installed

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PATH := $(BIN):$(PATH)

.PHONY: demo bench bench-latency ee test sanity units integration lint changelog-lint matrix build install clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt tools/install_collections.py
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	$(BIN)/python tools/install_collections.py --collections $(COLLECTIONS) --repo $(CURDIR) \
	    --ansible-test-home $(ANSIBLE_TEST_HOME)
	@touch $@

demo: $(STAMP)
	$(BIN)/python tools/demo.py

# Not part of `make test`: API calls and wall time of enrolling a fleet, written to benchmarks/RESULTS.md.
# Options through BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick (benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Not part of `make test` either: the collection against sequential and parallel boto3 scripts at 80 ms a call
# (benchmarks/latency.py, written to benchmarks/RESULTS-latency.md); options through BENCH_ARGS.
bench-latency: $(STAMP)
	$(BIN)/python benchmarks/latency.py $(BENCH_ARGS)

# The execution environment's build context (execution-environment.yml): this collection's tarball, then
# `ansible-builder create`; build the image from .build/ee/context with podman or docker (docs/awx.md).
ee: $(STAMP)
	@rm -rf $(BUILD)/ee && mkdir -p $(BUILD)/ee
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/ee .
	mv $(BUILD)/ee/mfa-aws-*.tar.gz $(BUILD)/ee/mfa-aws.tar.gz
	$(BIN)/ansible-builder create -f execution-environment.yml --context $(BUILD)/ee/context

test: sanity units integration lint changelog-lint matrix
	@echo "make test: all suites passed"

# ansible-test wants the collection at ansible_collections/<ns>/<name> with its
# dependencies beside it: copy the files git knows into such a tree (a repository of
# its own, since ansible-test lists the files through git).
$(ANSIBLE_TEST_ROOT): $(STAMP) FORCE
	@rm -rf $(BUILD) && mkdir -p $(ANSIBLE_TEST_ROOT) $(BUILD)/ansible_collections
	@git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(ANSIBLE_TEST_ROOT)
	@ln -s $(COLLECTIONS)/ansible_collections/amazon $(BUILD)/ansible_collections/amazon
	@cd $(ANSIBLE_TEST_ROOT) && git init -q && git add -A
FORCE:

sanity: $(ANSIBLE_TEST_ROOT)
	cd $(ANSIBLE_TEST_ROOT) && HOME=$(ANSIBLE_TEST_HOME) ansible-test sanity --local --python 3.11 --color no

units: $(ANSIBLE_TEST_ROOT)
	cd $(ANSIBLE_TEST_ROOT) && HOME=$(ANSIBLE_TEST_HOME) ansible-test units --local --python 3.11 --color no

integration: $(STAMP)
	$(BIN)/python -m pytest -n 3 --dist worksteal --durations=15 tests/integration

lint: $(STAMP)
	$(BIN)/ansible-lint --offline --profile production

changelog-lint: $(STAMP)
	$(BIN)/antsibull-changelog lint

# The other ansible-core releases of the support matrix (README, Support): each in a virtualenv of its own under .matrix/,
# with the collection built and installed by that core's ansible-galaxy; sanity, units and the contract's integration tests.
# MATRIX_ARGS, e.g. make matrix MATRIX_ARGS="--cores 2.16,2.21".
matrix: $(STAMP)
	$(BIN)/python tools/matrix.py $(MATRIX_ARGS)

build: $(STAMP)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)

clean:
	rm -rf $(BUILD) .matrix tests/output .pytest_cache
