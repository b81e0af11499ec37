"""Async client for one CPI tenant's OData v1 API (the subset IntegraMon reads).

Usage::

    async with CpiClient(api_url, token_url, client_id, client_secret) as cpi:
        async for page in cpi.iter_message_logs(since, until, status="FAILED"):
            store(page.logs)            # list[MessageLog], at most 1,000
        text = await cpi.error_text(guid)

``api_url`` is the service root ending in ``/api/v1``. ``token_url`` None means HTTP Basic auth.
Every call is rate limited per endpoint family (SAP's per-tenant limits, lowered by
``rate_limit_per_s``), retried on 429/5xx/timeouts/malformed replies with backoff that honours
``Retry-After``, and fails with a typed :mod:`core.cpi.errors` error whose message never contains
the secret. Pass ``http`` to share a connection pool (the client then leaves it open); share
``limits`` and ``token_cache`` between clients of one tenant to share its budget and token; pass
``limits=SharedRateLimits(redis, tenant_id, tenant.rate_limit_per_s)`` to share the budget with every
worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from core.cpi.auth import TokenCache
from core.cpi.dates import format_filter_datetime
from core.cpi.errors import CpiMalformedResponse
from core.cpi.models import (
    AdapterAttribute,
    CustomHeaderProperty,
    DesigntimeArtifact,
    IntegrationPackage,
    MessageLog,
    MessageLogPage,
    MessageStoreEntry,
    MplAttachment,
    RuntimeArtifact,
)
from core.cpi.ratelimit import EndpointFamily, RateLimits, TenantRateLimits, family_for_path
from core.cpi.transport import CallObserver, Credentials, RetryPolicy, Transport
from core.cpi.values import as_int
from core.cpi.wire import decode_mpl_page

if TYPE_CHECKING:
    from core.db.models.tenants import Tenant
    from core.secrets import SecretBox

__all__ = ["MAX_PAGE_SIZE", "CpiClient", "message_log_filter"]

MAX_PAGE_SIZE = 1000
E = TypeVar("E")
_json_decoder = msgspec.json.Decoder()


class CpiClient:
    """One tenant's CPI API. Cheap to create; close it (or use ``async with``) when it owns its pool."""

    def __init__(
        self,
        api_url: str,
        token_url: str | None,
        client_id: str,
        client_secret: str,
        *,
        rate_limit_per_s: float | None = None,
        http: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        limits: RateLimits | None = None,
        token_cache: TokenCache | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(limits=httpx.Limits(max_connections=20))
        self.limits: RateLimits = limits or TenantRateLimits(rate_limit_per_s)
        self.policy = policy or RetryPolicy()
        credentials = Credentials(token_url or None, client_id, client_secret)
        self._prefetches: set[asyncio.Task[MessageLogPage]] = set()
        self._transport = Transport(self._http, credentials, self.limits, self.policy, token_cache or TokenCache(),
                                    observer)

    @classmethod
    def for_tenant(cls, tenant: Tenant, secrets: SecretBox, **kwargs: Any) -> CpiClient:
        """A client for a stored tenant row (decrypts its secret; basic auth when ``auth_type`` is ``basic``)."""
        token_url = tenant.token_url if tenant.auth_type != "basic" else None
        kwargs.setdefault("rate_limit_per_s", tenant.rate_limit_per_s)
        return cls(
            tenant.api_url, token_url, tenant.client_id, secrets.decrypt(tenant.client_secret_encrypted), **kwargs
        )

    def __repr__(self) -> str:
        return f"CpiClient({self.api_url!r})"

    async def __aenter__(self) -> CpiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel page prefetches left by an abandoned iteration; close the pool if this client made it."""
        for task in list(self._prefetches):
            task.cancel()
        await asyncio.gather(*self._prefetches, return_exceptions=True)
        self._prefetches.clear()
        if self._owns_http:
            await self._http.aclose()

    # -- message processing logs -------------------------------------------------------------

    async def iter_message_logs(
        self,
        since: datetime | None,
        until: datetime | None = None,
        *,
        status: str | Sequence[str] | None = None,
        iflow_id: str | None = None,
        since_inclusive: bool = False,
        page_size: int = MAX_PAGE_SIZE,
        inline_count: bool = False,
    ) -> AsyncGenerator[MessageLogPage, None]:
        """Pages of logs with ``since < LogEnd <= until`` (``>=`` with ``since_inclusive``), oldest first.

        With the default page size the server pages (1,000 per reply, ``__next`` followed as is, the
        next page fetched while the caller handles this one); a smaller ``page_size`` pages with
        ``$top``/``$skip``. ``inline_count`` asks for ``__count``. Leaving the loop early is fine; wrap
        the iterator in ``contextlib.aclosing`` to stop the prefetch at once.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        params = {"$filter": message_log_filter(since, until, status, iflow_id, since_inclusive), "$orderby": "LogEnd"}
        if not params["$filter"]:
            del params["$filter"]
        if inline_count:
            params["$inlinecount"] = "allpages"
        if page_size == MAX_PAGE_SIZE:
            async with contextlib.aclosing(self._follow_next("MessageProcessingLogs", params)) as pages:
                async for page in pages:
                    yield page
            return
        skip = 0
        while True:
            page = await self._log_page(
                self._url("MessageProcessingLogs"), {**params, "$top": str(page_size), "$skip": str(skip)}
            )
            yield MessageLogPage(page.logs, None, page.total_count)
            if len(page.logs) < page_size:
                return
            skip += page_size

    async def count_message_logs(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        status: str | Sequence[str] | None = None,
        iflow_id: str | None = None,
        since_inclusive: bool = False,
    ) -> int:
        """``MessageProcessingLogs/$count`` for the same window and filters as :meth:`iter_message_logs`."""
        expression = message_log_filter(since, until, status, iflow_id, since_inclusive)
        params = {"$filter": expression} if expression else {}
        return await self._get("MessageProcessingLogs/$count", _parse_count, params=params, accept="text/plain")

    async def message_log(self, guid: str) -> MessageLog:
        """One log by MessageGuid (``CpiNotFound`` when the tenant does not know it)."""
        return await self._get(f"MessageProcessingLogs({_key(guid)})", lambda r: MessageLog.from_entity(_d(r)))

    async def message_logs_by_correlation_id(self, correlation_id: str) -> list[MessageLog]:
        """All logs of one correlation (SAP forbids mixing this filter with others)."""
        params = {"$filter": f"CorrelationId eq {_literal(correlation_id)}", "$orderby": "LogEnd"}
        return [log async for page in self._follow_next("MessageProcessingLogs", params) for log in page.logs]

    async def error_text(self, guid: str) -> str | None:
        """The last error of a message as plain text; None when the message has no error information."""
        text = await self._get(
            f"MessageProcessingLogs({_key(guid)})/ErrorInformation/$value", lambda r: r.text, accept="text/plain"
        )
        return text or None

    async def custom_headers(self, guid: str) -> list[CustomHeaderProperty]:
        return await self._list(
            f"MessageProcessingLogs({_key(guid)})/CustomHeaderProperties", CustomHeaderProperty.from_entity
        )

    async def adapter_attributes(self, guid: str) -> list[AdapterAttribute]:
        return await self._list(f"MessageProcessingLogs({_key(guid)})/AdapterAttributes", AdapterAttribute.from_entity)

    async def attachments(self, guid: str) -> list[MplAttachment]:
        return await self._list(f"MessageProcessingLogs({_key(guid)})/Attachments", MplAttachment.from_entity)

    async def attachment_body(self, attachment_id: str) -> bytes:
        """Raw body of an MPL attachment."""
        return await self._get(f"MessageProcessingLogAttachments({_key(attachment_id)})/$value", _content, accept="*/*")

    async def message_store_entries(self, guid: str) -> list[MessageStoreEntry]:
        return await self._list(
            f"MessageProcessingLogs({_key(guid)})/MessageStoreEntries", MessageStoreEntry.from_entity
        )

    async def message_store_payload(self, entry_id: str) -> bytes:
        """Raw persisted payload of a message-store entry."""
        return await self._get(f"MessageStoreEntries({_key(entry_id)})/$value", _content, accept="*/*")

    # -- design time and runtime ---------------------------------------------------------------

    async def packages(self) -> list[IntegrationPackage]:
        return await self._list("IntegrationPackages", IntegrationPackage.from_entity)

    async def package_artifacts(self, package_id: str) -> list[DesigntimeArtifact]:
        """Integration flows of one package (design time, 20 req/s per tenant: cache the result)."""
        return await self._list(
            f"IntegrationPackages({_key(package_id)})/IntegrationDesigntimeArtifacts", DesigntimeArtifact.from_entity
        )

    async def download_artifact(self, artifact_id: str, version: str = "active") -> bytes:
        """The iflow as a zip; download again only when its ``Version`` changed."""
        path = f"IntegrationDesigntimeArtifacts(Id={_literal(artifact_id)},Version={_literal(version)})/$value"
        return await self._get(path, _zip, accept="application/zip")

    async def runtime_artifacts(self) -> list[RuntimeArtifact]:
        return await self._list("IntegrationRuntimeArtifacts", RuntimeArtifact.from_entity)

    async def runtime_artifact_error(self, artifact_id: str) -> str:
        """Deployment error of a runtime artifact (JSON text as CPI sends it)."""
        return await self._get(
            f"IntegrationRuntimeArtifacts({_key(artifact_id)})/ErrorInformation/$value", lambda r: r.text, accept="*/*"
        )

    # -- plumbing ---------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.api_url}/{path}"

    async def _get(
        self,
        path: str,
        parse: Callable[[httpx.Response], E],
        *,
        params: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> E:
        family = family_for_path(path)
        return await self._transport.get(self._url(path), family=family, parse=parse, params=params, accept=accept)

    async def _list(self, path: str, build: Callable[[Mapping[str, Any]], E]) -> list[E]:
        """Every entity of a collection, following ``__next`` links."""
        found: list[E] = []
        url: str | None = self._url(path)
        params: Mapping[str, str] | None = {"$format": "json"}
        family = family_for_path(path)
        while url is not None:
            results, url = await self._transport.get(
                url, family=family, parse=lambda r: _collection(r, build), params=params
            )
            found.extend(results)
            url, params = (self._absolute(url), None) if url else (None, None)
        return found

    async def _follow_next(self, path: str, params: Mapping[str, str]) -> AsyncGenerator[MessageLogPage, None]:
        """Pages along ``__next`` links; the next page is fetched while the caller works on this one."""
        pending: asyncio.Task[MessageLogPage] | None = self._prefetch(self._url(path), {**params, "$format": "json"})
        try:
            while pending is not None:
                page = await pending
                pending = self._prefetch(self._absolute(page.next_link), None) if page.next_link else None
                yield page
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
                self._prefetches.discard(pending)  # the done-callback would only run on the next loop turn

    def _prefetch(self, url: str, params: Mapping[str, str] | None) -> asyncio.Task[MessageLogPage]:
        task = asyncio.create_task(self._log_page(url, params))
        self._prefetches.add(task)
        task.add_done_callback(self._prefetches.discard)
        return task

    async def _log_page(self, url: str, params: Mapping[str, str] | None) -> MessageLogPage:
        if params is not None and "$format" not in params:
            params = {**params, "$format": "json"}
        return await self._transport.get(url, family=EndpointFamily.MONITORING, parse=_log_page, params=params)

    def _absolute(self, link: str) -> str:
        """``__next`` may be absolute or relative to the service root."""
        if link.startswith(("http://", "https://")):
            return link
        return f"{self.api_url}/{link.lstrip('/')}"


def message_log_filter(
    since: datetime | None,
    until: datetime | None,
    status: str | Sequence[str] | None = None,
    iflow_id: str | None = None,
    since_inclusive: bool = False,
) -> str:
    """The ``$filter`` expression for a LogEnd window plus status / iflow conditions."""
    parts: list[str] = []
    if since is not None:
        parts.append(f"LogEnd {'ge' if since_inclusive else 'gt'} {format_filter_datetime(since)}")
    if until is not None:
        parts.append(f"LogEnd le {format_filter_datetime(until)}")
    statuses = [status] if isinstance(status, str) else list(status or [])
    if statuses:
        either = " or ".join(f"Status eq {_literal(s)}" for s in statuses)
        parts.append(f"({either})" if len(statuses) > 1 else either)
    if iflow_id:
        parts.append(f"IntegrationArtifact/Id eq {_literal(iflow_id)}")
    return " and ".join(parts)


def _literal(value: str) -> str:
    """An OData string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _key(value: str) -> str:
    """A quoted entity key, percent-encoded for the URL path."""
    return quote(_literal(value), safe="'")


def _d(response: httpx.Response) -> dict[str, Any]:
    body = _json_decoder.decode(response.content) if response.content else None
    if not isinstance(body, dict) or not isinstance(body.get("d"), dict):
        raise ValueError("reply has no 'd' object")
    data: dict[str, Any] = body["d"]
    return data


def _collection(response: httpx.Response, build: Callable[[Mapping[str, Any]], E]) -> tuple[list[E], str | None]:
    data = _d(response)
    results = data.get("results")
    if not isinstance(results, list):
        raise ValueError("reply has no 'd.results' list")
    return [build(entity) for entity in results], data.get("__next")


def _log_page(response: httpx.Response) -> MessageLogPage:
    body = decode_mpl_page(response.content).d
    return MessageLogPage([MessageLog.from_wire(w) for w in body.results], body.next, as_int(body.count))


def _parse_count(response: httpx.Response) -> int:
    value = as_int(response.text.strip())
    if value is None:
        raise ValueError("empty $count reply")
    return value


def _content(response: httpx.Response) -> bytes:
    return response.content


def _zip(response: httpx.Response) -> bytes:
    if not response.content.startswith(b"PK"):
        raise CpiMalformedResponse(
            f"CPI sent {response.headers.get('content-type')!r} instead of a zip", status=response.status_code
        )
    return response.content
