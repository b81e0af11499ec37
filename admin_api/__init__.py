"""The admin API and operator console (Litestar): ``create_app(settings)`` builds the whole app."""

from __future__ import annotations

from admin_api.app import create_app

__all__ = ["create_app"]
