# Kanal. `make run` starts the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
KANAL_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
PORT ?= 8000
SANDBOX_PORT ?= 8765

.PHONY: run test test-sqlite test-postgres lint bench install clean messages

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# axe-core for the accessibility tests, pinned in package-lock.json. Without
# npm the accessibility tests skip and say how to install it.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else \
	  echo "npm mangler: tilgængelighedstestene springes over (apt-get install -y npm, derefter make install)"; \
	fi

install: $(STAMP) $(AXE)

run: $(STAMP)
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py createcachetable
	KANAL_SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT) $(PY) manage.py load_demo
	$(PY) manage.py run_demo --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: $(STAMP) $(AXE)
	$(VENV)/bin/ruff check .
	bash bin/test-all

test-sqlite: $(STAMP) $(AXE)
	$(PY) -m pytest

test-postgres: $(STAMP) $(AXE)
	DATABASE_URL=$(KANAL_TEST_DATABASE_URL) $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Refresh the English catalogue from the source (sorted, without line
# numbers, so that parallel work merges cleanly), then compile it.
messages: $(STAMP)
	$(PY) manage.py makemessages -l en --no-location --no-obsolete -i '.venv/*' -i 'sandbox/*' -i 'bench/*'
	msgcat --sort-output --no-location -o kanal/locale/en/LC_MESSAGES/django.po kanal/locale/en/LC_MESSAGES/django.po
	$(PY) manage.py compilemessages -l en -i '.venv'

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) var/*.sqlite3*
