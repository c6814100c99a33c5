# Everything installs itself into a project virtualenv from the lockfile; only python3 is needed.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install dev test test-fast lint bench lock clean screenshots

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

dev: install  ## the whole service on the embedded default
	$(BIN)/activation dev

test: install  ## the suite (PostgreSQL tests run too when 127.0.0.1:5432 answers)
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-fast: install  ## the suite without the tests that start processes, browsers or faults
	$(BIN)/pytest -q -m "not slow" $(PYTEST_ARGS)

screenshots: install  ## every page and mail, both languages, phone and desktop, into docs/images
	ACTIVATION_SCREENSHOTS=docs/images $(BIN)/pytest -q -p no:cacheprovider tests/api/test_activation_pages.py tests/api/test_link_pages.py tests/api/test_page_forms.py tests/api/test_on_premises_pages.py tests/api/test_unavailable_pages.py tests/api/test_mail_look.py tests/api/test_dev_pages.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest -q -p no:cacheprovider tests/test_layers.py  # the layers (docs/architecture.md)
	$(BIN)/pytest -q -p no:cacheprovider tests/test_compose.py tests/test_deploy.py \
	  tests/test_observability.py  # deployment files vs published schemas, rules vs promtool

bench: install  ## product vs bare Temporal; BENCH_ARGS="--quick" (smoke) or "-n 500 -c 10 -m 10000"
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
