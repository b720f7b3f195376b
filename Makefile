# propfee — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { command -v $$p; break; }; done)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: run test lint setup fonts browser demo bench clean messages

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "需要 Python ≥ 3.11 / Python ≥ 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed

## make run: install, migrate, load the demo company if the database is empty, serve on 127.0.0.1:8000
run: setup fonts
	$(PY) -m propfee quickstart --host $(HOST) --port $(PORT)
	$(PY) -m propfee serve $(HOST):$(PORT)

## The CJK TrueType font that PDF documents embed (AR PL UMing), from Debian's packages.
fonts:
	@if [ -f /usr/share/fonts/truetype/arphic/uming.ttc ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing the CJK font for PDF documents…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-arphic-uming >/dev/null; \
	else echo "fonts-arphic-uming is not installed and cannot be installed here: PDF documents need it (or PROPFEE_PDF_FONT)."; fi

## The system Chromium (and CJK fonts for its screenshots) for browser tests, from Debian's packages.
browser: fonts
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Chromium and CJK fonts for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "Chromium not installed and cannot be installed here: browser tests will be skipped."; fi

## make test: set up and run the whole suite (DATABASE_URL selects PostgreSQL)
test: setup browser
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src/propfee/*/services.py src/propfee/*/selectors.py src/propfee/collection/run/*.py
	$(PY) -m propfee makemigrations --check --dry-run

demo: setup
	$(PY) -m propfee migrate --noinput
	$(PY) -m propfee demo

bench: setup
	$(PY) bench/bench_import.py
	$(PY) bench/bench_billing.py --units 200000
	$(PY) bench/bench_aging.py --units 100000
	$(PY) bench/bench_payments.py

## Recompile the translation catalogues after editing a .po file.
messages: setup
	$(PY) -m propfee compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) data/test_* .pytest_cache .mypy_cache .ruff_cache
