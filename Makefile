# The two commands: `make run` (set up and start the demo with the dashboard) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test setup chromium postgresql poppler lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=23,<26"
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## run: set up and start the demo (demo site, crawler, alerts, local mail, dashboard)
run: $(STAMP)
	$(BIN)/yuqing demo

## test: set up (with Debian's chromium for the browser test, postgresql for the OpsDB tests and poppler-utils for
## reading the briefs' PDFs back) and run the whole suite
test: $(STAMP) chromium postgresql poppler
	$(BIN)/python -m pytest

chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the dashboard browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "WARNING: could not install chromium; the browser test will be skipped"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "WARNING: could not install chromium; the browser test will be skipped"; \
	else echo "WARNING: chromium is not installed and cannot be installed here; the browser test will be skipped"; fi

# The OpsDB tests start a throwaway PostgreSQL server (tests/pgserver.py) from the server binaries; no service is
# enabled or started here.
postgresql:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql for the OpsDB tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	    || echo "WARNING: could not install postgresql; the PostgreSQL tests will be skipped"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	    || echo "WARNING: could not install postgresql; the PostgreSQL tests will be skipped"; \
	else echo "WARNING: postgresql is not installed and cannot be installed here; the PostgreSQL tests will be skipped"; fi

# The brief tests read PDFs back with pdftotext and render pages with pdftoppm (Debian's poppler-utils).
poppler:
	@if command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's poppler-utils for the brief tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
	    || echo "WARNING: could not install poppler-utils; the PDF read-back tests will be skipped"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
	    || echo "WARNING: could not install poppler-utils; the PDF read-back tests will be skipped"; \
	else echo "WARNING: poppler-utils is not installed and cannot be installed here; the PDF read-back tests will be skipped"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/analyze.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/alert_latency.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/ops.py

clean:
	rm -rf $(VENV) var .pytest_cache
