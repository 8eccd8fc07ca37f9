# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# SQLite, the embedded job queue and console mail: nothing else to install or run.
demo: export KAM_ENV := development
demo: $(VENV)/.installed
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask kam seed-demo
	$(BIN)/flask kam demo-logins
	$(BIN)/flask kam serve

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check kamportal tests bench
	$(BIN)/ruff format --check kamportal tests bench

format: $(VENV)/.installed-dev
	$(BIN)/ruff format kamportal tests bench
	$(BIN)/ruff check --fix kamportal tests bench

clean:
	rm -rf $(VENV) instance/*.db
