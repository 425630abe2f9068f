# Settle: two commands on a fresh machine. `make run` serves the demo; `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMPS := .make
HOST ?= 127.0.0.1
PORT ?= 5000

VENDOR_FILES := \
	bootstrap/dist/css/bootstrap.min.css bootstrap/dist/css/bootstrap.min.css.map \
	bootstrap/dist/js/bootstrap.bundle.min.js bootstrap/dist/js/bootstrap.bundle.min.js.map \
	chart.js/dist/chart.umd.min.js chart.js/dist/chart.umd.min.js.map \
	socket.io-client/dist/socket.io.min.js socket.io-client/dist/socket.io.min.js.map

.PHONY: setup run test lint format db seed translations translations-update assets chromium system-deps bench-deps clean

# Debian libraries WeasyPrint needs for PDFs (lawyer letters, receipts), a CJK font so Chinese
# prints, and poppler-utils (pdftotext, pdffonts) with which the tests read the PDFs back.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei poppler-utils

setup: system-deps $(STAMPS)/python $(STAMPS)/assets translations

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing $$missing (apt-get)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "Missing system packages: $$missing. Install them with: sudo apt-get install -y $$missing"; exit 1; fi

$(STAMPS)/python: pyproject.toml requirements.lock
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Front-end files come from npm and are served from static/vendor/ (never from a CDN).
$(STAMPS)/assets: $(STAMPS)/npm Makefile
	@mkdir -p static/vendor
	@for f in $(VENDOR_FILES); do \
		pkg=$${f%%/*}; mkdir -p static/vendor/$$pkg; cp node_modules/$$f static/vendor/$$pkg/; \
	done
	@touch $@

assets: $(STAMPS)/assets

translations: $(STAMPS)/python
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations

translations-update: $(STAMPS)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete

db: setup
	$(FLASK) db upgrade
	$(FLASK) messaging install-templates

seed: db
	$(FLASK) demo seed

# Threaded gunicorn worker: serves WebSockets (simple-websocket) for the live chat to come.
# Links in notices, emails and texts point at the address served, unless PUBLIC_URL says otherwise.
run: export PUBLIC_URL ?= http://$(HOST):$(PORT)
run: seed
	@echo "Settle is at http://$(HOST):$(PORT)/  (demo accounts in README.md, password demo1234)"
	$(BIN)/gunicorn -k gthread -w 1 --threads 100 --no-control-socket -b $(HOST):$(PORT) wsgi:app

# Browser tests drive Debian's Chromium; install it when missing and we are root.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Chromium and a CJK font for browser tests (apt-get)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is missing: browser tests will fail. Install it with: sudo apt-get install -y chromium"; fi

# Optional: wrk, the HTTP load tool bench/pages.py drives the server with (it falls back to a
# slower Python client without it). Not needed to run or test the portal.
bench-deps:
	@if command -v wrk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing wrk for bench/pages.py (apt-get)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "wrk is missing: bench/pages.py will use its slower Python client. Install it with: sudo apt-get install -y wrk"; fi

lint: $(STAMPS)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMPS)/python
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One pytest worker per core (pytest-xdist; each PostgreSQL worker gets a database of its own),
# a file's tests on one worker so module fixtures are built once; the slowest tests are listed.
TEST_WORKERS ?= auto
test: setup chromium lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=20 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(STAMPS) node_modules static/vendor instance .pytest_cache .ruff_cache .mypy_cache
