# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test test-browser screenshots install install-test messages lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,production]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# The W3C Nu HTML Checker (vnu-jar from the npm registry, run with Java) for
# tests/portal/test_nu_validator.py.
VNU_VERSION := 26.9.27
$(VENV)/vnu/.installed: | $(BIN)/python
	npm install --silent --no-audit --no-fund --prefix $(VENV)/vnu vnu-jar@$(VNU_VERSION)
	touch $@

install-test: $(VENV)/.installed-test $(VENV)/vnu/.installed

## Run the site with demo content on http://$(HOST):$(PORT)/
## (HOST and PORT choose the address: make run PORT=8080; links in texts,
## calendar files and feeds follow it.)
run: install
	$(BIN)/python manage.py migrate --noinput -v 0
	WAGTAILADMIN_BASE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py seed_demo
	WAGTAILADMIN_BASE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## Run the whole test suite (SQLite unless DATABASE_URL says otherwise). The
## browser tests need Debian's Chromium at /usr/bin/chromium; without it they are
## skipped and the run says so (CI=true makes that a failure).
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Only the browser tests (journeys, axe checks, screenshots)
test-browser: install-test
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

## Refresh docs/screenshots/ from the running demo content
screenshots: install-test
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_screenshots.py $(PYTEST_ARGS)

## Compile locale/zh_Hans/LC_MESSAGES/*.po (the admin strings Wagtail's own
## Chinese leaves out) after editing them; the .mo files are committed, so a new
## machine needs no gettext tools. Needs GNU gettext's msgfmt.
messages: install
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore "$(VENV)/*"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 static .pytest_cache .ruff_cache

.PHONY: bench

## Benchmark the public pages under gunicorn: BENCH_ARGS="--news 20000 --talks 500"
bench: install-test
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

.PHONY: mutation

$(VENV)/.installed-mutation: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e ".[test,production,mutation]"
	touch $@

## Mutation testing of the booking rules (counseling/availability.py, booking.py
## and the statutory calendar) against their own tests; README lists what survives
mutation: $(VENV)/.installed-mutation
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut results

.PHONY: soak

## A minute of mixed public pages and bookings under gunicorn, watching worker memory: SOAK_ARGS="--duration 300"
soak: install-test
	$(BIN)/python bench/soak.py $(SOAK_ARGS)
