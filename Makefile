# Stockwire's command surface. Every target installs what it needs by itself.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint firmware-check chaos bench-quick system clean

$(STAMP): pyproject.toml tools/bootstrap.sh
	@bash tools/bootstrap.sh $(VENV)
	@touch $(STAMP)

## system packages (mosquitto, python3-venv) — installed only when missing
system:
	@bash tools/system-packages.sh

demo: system $(STAMP)
	@$(VENV)/bin/stockwire demo $(ARGS)

test: system $(STAMP)
	$(MAKE) lint
	$(MAKE) firmware-check
	bash tools/with-postgres.sh $(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

firmware-check: $(STAMP)
	$(PY) -m tools.firmware_check

chaos: system $(STAMP)
	@echo "chaos suite: see issue 7 (not built yet)"; exit 1

bench-quick: system $(STAMP)
	@echo "bench-quick: see issue 8 (not built yet)"; exit 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
