# The two commands of the README: `make run` and `make test`. Everything else supports them.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The project's Python packages (security lint covers all of them).
APPS := $(wildcard returns_portal rma labels catalogue payments policies)

.PHONY: install run test lint audit bench worker clean screenshots

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Unless SITE_URL is set, links in emails and the printed admin login follow HOST and PORT.
RUN_ENV = HOST=$(HOST) PORT=$(PORT)

run: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py load_demo
	$(RUN_ENV) $(PY) manage.py ensure_admin
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest

# Every shopper page at 390 and 1280 px (headless system Chromium, a live server with the
# demo data, axe-core on each) into docs/screenshots/.
screenshots: install
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -p no:cacheprovider \
		tests/rma/portal/test_browser_shopper_screens.py -k every_shopper_page

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=returns_portal.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/bandit --quiet --recursive $(APPS) --exclude '*/migrations/*' --severity-level high

# Needs the PyPI advisory service (pypi.org JSON API); not reachable from every machine.
audit: install
	$(VENV)/bin/pip-audit --local --skip-editable

bench: install
	$(PY) bench/run.py

worker: install
	$(VENV)/bin/celery -A returns_portal worker --beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache .ruff_cache test-artifacts
