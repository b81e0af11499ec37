"""ASGI entry point for uvicorn (``uvicorn admin_api.asgi:build --factory``): loads settings once per process."""

from __future__ import annotations

from litestar import Litestar

from admin_api.app import create_app
from core.heap import settle_heap
from core.logsafe import install_log_masking
from core.settings import load_settings

__all__ = ["build"]


def build() -> Litestar:
    install_log_masking()
    app = create_app(load_settings())
    settle_heap()  # after the app is built: its objects leave the collector's reach (core.heap)
    return app
