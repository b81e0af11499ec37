"""Routing an OData path below ``/api/v1`` to its handler (keys as CPI writes them: ``('id')``)."""

from __future__ import annotations

import re
from collections.abc import Callable

from litestar import Response

from simulator import api_content, api_logs
from simulator.api_logs import ApiCall
from simulator.responses import ApiError

__all__ = ["dispatch"]

_KEY = r"'((?:[^']|'')*)'"
Handler = Callable[[ApiCall, tuple[str, ...]], Response[bytes]]


def _unquote(key: str) -> str:
    return key.replace("''", "'")


_ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(r"MessageProcessingLogs"), lambda c, g: api_logs.message_list(c)),
    (re.compile(r"MessageProcessingLogs/\$count"), lambda c, g: api_logs.message_count(c)),
    (re.compile(rf"MessageProcessingLogs\({_KEY}\)"), lambda c, g: api_logs.message_detail(c, _unquote(g[0]), None)),
    (
        re.compile(
            rf"MessageProcessingLogs\({_KEY}\)/(CustomHeaderProperties|AdapterAttributes|Attachments"
            r"|MessageStoreEntries|ErrorInformation|ErrorInformation/\$value)"
        ),
        lambda c, g: api_logs.message_detail(c, _unquote(g[0]), g[1]),
    ),
    (
        re.compile(rf"MessageProcessingLogAttachments\({_KEY}\)/\$value"),
        lambda c, g: api_logs.attachment_body(c, _unquote(g[0])),
    ),
    (re.compile(rf"MessageStoreEntries\({_KEY}\)"), lambda c, g: api_logs.store_entry(c, _unquote(g[0]), False)),
    (re.compile(rf"MessageStoreEntries\({_KEY}\)/\$value"), lambda c, g: api_logs.store_entry(c, _unquote(g[0]), True)),
    (re.compile(r"IntegrationPackages"), lambda c, g: api_content.package_list(c)),
    (re.compile(rf"IntegrationPackages\({_KEY}\)"), lambda c, g: api_content.package_entity(c, _unquote(g[0]))),
    (
        re.compile(rf"IntegrationPackages\({_KEY}\)/IntegrationDesigntimeArtifacts"),
        lambda c, g: api_content.package_artifacts(c, _unquote(g[0])),
    ),
    (
        re.compile(
            rf"(?:IntegrationPackages\({_KEY}\)/)?IntegrationDesigntimeArtifacts\(Id={_KEY},Version={_KEY}\)(/\$value)?"
        ),
        lambda c, g: api_content.designtime_artifact(c, _unquote(g[1]), _unquote(g[2]), bool(g[3])),
    ),
    (re.compile(r"IntegrationRuntimeArtifacts"), lambda c, g: api_content.runtime_list(c)),
    (re.compile(r"IntegrationRuntimeArtifacts/\$count"), lambda c, g: api_content.runtime_count(c)),
    (
        re.compile(rf"IntegrationRuntimeArtifacts\({_KEY}\)(/ErrorInformation/\$value)?"),
        lambda c, g: api_content.runtime_detail(c, _unquote(g[0]), bool(g[1])),
    ),
]


def dispatch(call: ApiCall, path: str) -> Response[bytes]:
    """Run the handler for ``path`` (relative to the service root); 404 naming the path otherwise."""
    for pattern, handler in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return handler(call, tuple(g or "" for g in match.groups()))
    raise ApiError(404, "Not Found", f"resource {path!r} is not served by this simulator")
