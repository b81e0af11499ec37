"""Swagger UI from the package's own files (``swagger-ui-bundle``), never from a CDN.

Litestar's stock Swagger page loads its scripts from jsdelivr and starts them with an inline
script, which would put third-party code in the console's origin and clash with our CSP. This page
loads the bundle from ``/static/swagger/`` and starts it from ``/static/swagger-init.js``.
``INTEGRAMON_SWAGGER_UI=false`` switches the page off (the JSON document stays).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

__all__ = ["SWAGGER_ASSETS", "LocalSwaggerPlugin"]

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}"></div>
  <script src="/static/swagger/swagger-ui-bundle.js"></script>
  <script src="/static/swagger/swagger-ui-standalone-preset.js"></script>
  <script src="/static/swagger-init.js"></script>
</body>
</html>
"""


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """``/schema/swagger``: the Swagger UI page built from local assets only."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = str(openapi_schema.get("info", {}).get("title", "API")).replace("<", "&lt;")
        return _PAGE.format(title=title, spec=self.get_openapi_json_route(request)).encode()
