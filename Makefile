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

# $(call debian,CHECK,PACKAGE,WHAT FOR,WHAT IS SKIPPED WITHOUT IT): when CHECK fails, install the Debian package the
# tests need if the machine allows it (root, or password-less sudo); otherwise warn, and those tests skip with the
# reason. No service is enabled or started.
debian = @if $(1); then :; else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    SUDO=sudo; else SUDO=no; fi; \
	  if [ "$$SUDO" != no ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's $(2) $(3)"; \
	    ($$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null) \
	      || echo "WARNING: could not install $(2); $(4)"; \
	  else echo "WARNING: $(2) is not installed and cannot be installed here; $(4)"; fi; fi

chromium:
	$(call debian,command -v chromium >/dev/null 2>&1,chromium,for the dashboard browser test,the browser test will be skipped)

# The OpsDB tests start a throwaway PostgreSQL server (tests/pgserver.py) from the server binaries.
postgresql:
	$(call debian,ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1,postgresql,for the OpsDB tests,the PostgreSQL tests will be skipped)

# The brief tests read PDFs back with pdftotext and render pages with pdftoppm.
poppler:
	$(call debian,command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1,poppler-utils,for the brief tests,the PDF read-back tests will be skipped)

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
