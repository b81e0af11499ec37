"""``/superadmin/*``: bookmarks from the seed system land on the matching console page (HTTP 308).

No token is needed to follow a redirect (``exclude_from_auth``): the page it leads to signs the visitor in.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from litestar import Request, get
from litestar.response import Redirect
from litestar.status_codes import HTTP_308_PERMANENT_REDIRECT

__all__ = ["SEED_PAGES", "seed_redirects"]

SEED_PAGES: MappingProxyType[str, str] = MappingProxyType({
    "/superadmin/jobs": "/jobs",
    "/superadmin/metrics": "/platform",
    "/superadmin/redis-metrics": "/redis",
    "/superadmin/worker-tuning": "/tuning",
})


def _redirect(source: str, target: str) -> Any:
    async def handler(request: Request[Any, Any, Any]) -> Redirect:
        query = request.url.query
        return Redirect(f"{target}?{query}" if query else target, status_code=HTTP_308_PERMANENT_REDIRECT)

    handler.__name__ = "seed_" + source.rsplit("/", 1)[-1].replace("-", "_")
    return get([source, source + "/"], include_in_schema=False, name=handler.__name__,
               opt={"exclude_from_auth": True})(handler)


def seed_redirects() -> list[Any]:
    return [_redirect(source, target) for source, target in SEED_PAGES.items()]
