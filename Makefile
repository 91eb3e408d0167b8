# shipshape: `make demo` serves the default service, `make test` runs the whole suite.
# Every target sets up what it needs (virtual environment, PostgreSQL, Redis) by itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
# Any uv on PATH works; otherwise a private copy is installed into .tools/.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
VENV := .venv
DEMO_DIR ?= build/demo
# Two workers share the cores; each variant's checks stay on one worker, which renders it once.
PYTEST_ARGS ?= -n 2 --dist loadgroup -v --durations=30

.PHONY: help demo test lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --quiet --python $(PYTHON)
	touch $@

demo: $(VENV)/.synced ## Render the default service into build/demo and serve it on localhost
	scripts/demo.sh $(DEMO_DIR)

test: $(VENV)/.synced ## Render every variant, lint it, run the default and minimal suites
	$(PYTHON) template/scripts/local_services.py install
	scripts/install_tools.sh
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.synced ## The pre-commit hooks on every file: ruff, actionlint, zizmor, leftovers
	PRE_COMMIT_HOME=$(CURDIR)/.tools/pre-commit $(VENV)/bin/pre-commit run --all-files

bench: $(VENV)/.synced ## Measure the default service against bare FastAPI; writes docs/benchmarks.md
	$(UV) sync --locked --quiet --group bench --python $(PYTHON)
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)

clean: ## Remove the virtual environments and build/
	rm -rf $(VENV) .tools build .pytest_cache .ruff_cache
