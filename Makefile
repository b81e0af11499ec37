# Two commands matter: `make dev` and `make test`. Both create .venv/ and install from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test install lock clean

install: $(STAMP)

# --compile-bytecode: like the image (Dockerfile), so a process started here reads .pyc files instead of
# compiling every dependency at each start (PYTHONDONTWRITEBYTECODE=1 would otherwise never cache them).
# editable_mode=compat: the checkout goes on sys.path through a one-line .pth file; setuptools' default
# editable finder is an import hook that costs every Python process ~25 ms of start-up (site 30 -> 5 ms).
$(STAMP): pyproject.toml requirements.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . -C editable_mode=compat
	touch $(STAMP)

dev: install
	$(BIN)/integramon dev

test: install
	bash scripts/check

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra peers -o requirements.lock --python $(BIN)/python -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
