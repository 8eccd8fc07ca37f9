# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: demo test lint format clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The message catalogs (what clients read in their language) are compiled at install, and
# again whenever a .po changes: the .mo files are not kept in git.
CATALOGS := $(wildcard kamportal/translations/*/LC_MESSAGES/messages.po)

$(VENV)/.installed-dev: pyproject.toml $(CATALOGS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/pybabel compile -d kamportal/translations
	touch $@

$(VENV)/.installed: pyproject.toml $(CATALOGS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/pybabel compile -d kamportal/translations
	touch $@

# After changing a client-facing text: extract every marked text (Python, the pages and the
# emails' .txt) and merge it into each catalog; translate the new entries, then `make test`
# compiles them. A new language: `$(BIN)/pybabel init -i kamportal/translations/messages.pot
# -d kamportal/translations -l LANG`.
translations: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k translated:2 -k N_ --no-location \
		--sort-by-file --width 100 --project KAM-Portal -o kamportal/translations/messages.pot .
	$(BIN)/pybabel update -i kamportal/translations/messages.pot -d kamportal/translations \
		--ignore-obsolete --width 100
	$(BIN)/pybabel compile -d kamportal/translations

# Where `make demo` serves: `PORT=8080 make demo`; `HOST=0.0.0.0` to be reached from other
# machines (set PUBLIC_URL to the address they use, for the demo's links).
HOST ?= 127.0.0.1
PORT ?= 5000
# The address the demo's links (KYC emails) are built on: where this machine reaches it.
DEMO_URL = http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

# SQLite, the embedded job queue and console mail: nothing else to install or run. The
# demo logins are printed last, once the server is up.
demo: export KAM_ENV := development
demo: $(VENV)/.installed
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask kam seed-demo --url $(DEMO_URL)
	$(BIN)/flask kam serve --host $(HOST) --port $(PORT) --demo-logins

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
