# Two commands matter: `make dev` and `make test`. Both create .venv/ and install from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test install lock clean

install: $(STAMP)

# --compile-bytecode: like the image (Dockerfile), so a process started here reads .pyc files instead of
# compiling every dependency at each start (PYTHONDONTWRITEBYTECODE=1 would otherwise never cache them).
$(STAMP): pyproject.toml requirements.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

dev: install
	$(BIN)/integramon dev

test: install
	bash scripts/check

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra peers -o requirements.lock --python $(BIN)/python -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
