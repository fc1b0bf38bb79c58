# Everything a newcomer or CI needs; `make test` installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test soak bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install  ## the HTTP API on http://127.0.0.1:8000, store var/tandem.db (docs/http.md)
	$(BIN)/tandem serve

demo: install  ## the scripted demo day
	$(BIN)/tandem demo

# Compiled first: the e2e tests start hundreds of `tandem` processes, and with
# PYTHONDONTWRITEBYTECODE set each one would compile the sources again.
test: install
	$(BIN)/python -m compileall -q domain projections adapters
	$(BIN)/pytest -q -m "not soak" --durations=15

soak: install  ## long runs: 50,000 events through relays killed at random moments (~1 min)
	$(BIN)/pytest -q -s -m soak

bench: install
	$(BIN)/python -m benchmarks

lint: install
	$(BIN)/ruff check domain projections adapters tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
