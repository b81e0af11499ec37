"""The running release, from the installed package's metadata (``pyproject.toml`` is the one source)."""

from __future__ import annotations

from importlib import metadata

__all__ = ["DISTRIBUTION", "VERSION"]

DISTRIBUTION = "integramon-runtime"

try:
    VERSION = metadata.version(DISTRIBUTION)
except metadata.PackageNotFoundError:  # a source tree that was never installed
    VERSION = "0+unknown"
