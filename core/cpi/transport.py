"""Sending one CPI request with auth, rate limit, retries and error mapping (used by ``CpiClient``).

Retries: 429, 5xx, timeouts, connection errors and unparseable 2xx bodies are retried with
exponential backoff and jitter; a ``Retry-After`` hint replaces the backoff (and pauses the endpoint
family) unless it is longer than ``max_retry_after_s``, then :class:`CpiRateLimited` is raised at
once so the job can be deferred. A 401 drops the cached token and retries once with a new one; a
wait for a 429 / 5xx / timeout renews that allowance, because a token may expire during a long
Retry-After pause and a fresh 401 then says nothing about the credentials. Each request, answer and
retry is reported to an optional observer (:mod:`core.cpi.metrics`).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import html
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx

from core.cpi.auth import AccessToken, TokenCache
from core.cpi.errors import (
    CpiAuthError,
    CpiBadRequest,
    CpiError,
    CpiMalformedResponse,
    CpiNotFound,
    CpiRateLimited,
    CpiServerError,
    CpiTimeout,
)
from core.cpi.ratelimit import EndpointFamily, RateLimits

__all__ = ["CallObserver", "Credentials", "RetryPolicy", "Transport"]

log = logging.getLogger("core.cpi")
_XML_MESSAGE = re.compile(r"<(?:\w+:)?message[^>]*>([^<]*)</(?:\w+:)?message>")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client tries before raising: attempts per call and the backoff curve."""

    max_attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    max_retry_after_s: float = 60.0
    timeout_s: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for the given (1-based) failed attempt."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        jitter: float = random.random()  # jitter spreads retries of many workers, no security role
        return ceiling * (0.5 + jitter / 2)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where and how to authenticate; ``token_url`` None means HTTP Basic on every call."""

    token_url: str | None
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"Credentials(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret=***)"


class CallObserver(Protocol):
    """Told of every request's answer (or lack of one) and every retry: feeds the CPI call metrics."""

    def response(self, family: str, status: int, latency_ms: float) -> None: ...

    def no_answer(self, family: str, latency_ms: float) -> None: ...

    def retry(self, family: str, wait_ms: float, throttled: bool) -> None: ...


class _NoObserver:
    def response(self, family: str, status: int, latency_ms: float) -> None:
        return None

    def no_answer(self, family: str, latency_ms: float) -> None:
        return None

    def retry(self, family: str, wait_ms: float, throttled: bool) -> None:
        return None


class Transport:
    """Authenticated, rate-limited, retried GETs against one tenant."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: Credentials,
        limits: RateLimits,
        policy: RetryPolicy,
        token_cache: TokenCache,
        observer: CallObserver | None = None,
    ) -> None:
        self._observer: CallObserver = observer or _NoObserver()
        self._http = http
        self._credentials = credentials
        self._limits = limits
        self._policy = policy
        self._tokens = token_cache
        self._token_lock = asyncio.Lock()

    async def get(
        self,
        url: str,
        *,
        family: EndpointFamily,
        parse: Callable[[httpx.Response], T],
        params: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> T:
        """GET ``url`` and return ``parse(response)``; raises a :class:`CpiError` subclass when it gives up."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            await self._limits.bucket(family).acquire()
            try:
                headers = {"Accept": accept, **(await self._auth_headers())}
                response = await self._send(url, params, headers, family)
                if response.status_code == 401 and self._credentials.token_url and not refreshed:
                    refreshed, attempt = True, attempt - 1  # a stale token costs no attempt, once
                    self._drop_token(headers)
                    log.info("CPI %s answered 401; fetching a new token", _where(url))
                    continue
                return self._accept(response, url, parse)
            except CpiError as exc:
                if not exc.transient or attempt >= self._policy.max_attempts:
                    raise
                delay = await self._delay_after(exc, attempt, family)
                log.warning("CPI %s attempt %d/%d failed: %s", _where(url), attempt, self._policy.max_attempts, exc)
                self._observer.retry(family.value, delay * 1000, isinstance(exc, CpiRateLimited))
                refreshed = False  # after a wait, a 401 may be a token that expired meanwhile: refresh once more
            await asyncio.sleep(delay)

    async def _send(self, url: str, params: Mapping[str, str] | None, headers: dict[str, str],
                    family: EndpointFamily) -> httpx.Response:
        started = time.monotonic()
        try:
            response = await self._http.get(url, params=params, headers=headers, timeout=self._policy.timeout_s)
        except httpx.TimeoutException as exc:
            self._observer.no_answer(family.value, (time.monotonic() - started) * 1e3)
            raise CpiTimeout(f"CPI {_where(url)} did not answer within {self._policy.timeout_s:g}s") from exc
        except httpx.TransportError as exc:
            self._observer.no_answer(family.value, (time.monotonic() - started) * 1e3)
            raise CpiTimeout(f"CPI {_where(url)} connection failed: {type(exc).__name__}") from exc
        elapsed_ms = (time.monotonic() - started) * 1e3
        self._observer.response(family.value, response.status_code, elapsed_ms)
        log.debug("CPI GET %s -> %d in %.0f ms", _where(url), response.status_code, elapsed_ms)
        return response

    def _accept(self, response: httpx.Response, url: str, parse: Callable[[httpx.Response], T]) -> T:
        status = response.status_code
        if 200 <= status < 300:
            try:
                if _unexpected_html(response):
                    raise ValueError("an HTML page instead of API data (proxy or login page)")
                return parse(response)
            except CpiError:
                raise
            except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                raise CpiMalformedResponse(
                    f"CPI {_where(url)} sent an unreadable {status} reply: {type(exc).__name__}: {_short(exc)}",
                    status=status,
                ) from exc
        raise _status_error(response, url)

    async def _delay_after(self, exc: CpiError, attempt: int, family: EndpointFamily) -> float:
        if isinstance(exc, CpiRateLimited) and exc.retry_after_s is not None:
            if exc.retry_after_s > self._policy.max_retry_after_s:
                raise exc
            await self._limits.bucket(family).pause(exc.retry_after_s)
            return exc.retry_after_s
        return self._policy.backoff(attempt)

    async def _auth_headers(self) -> dict[str, str]:
        creds = self._credentials
        if creds.token_url is None:
            pair = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        token = self._tokens.get(creds.token_url, creds.client_id)
        if token is None:
            async with self._token_lock:
                token = self._tokens.get(creds.token_url, creds.client_id) or await self._fetch_token()
        return {"Authorization": f"Bearer {token.value}"}

    def _drop_token(self, headers: Mapping[str, str]) -> None:
        value = headers.get("Authorization", "").removeprefix("Bearer ")
        if self._credentials.token_url:
            self._tokens.discard(self._credentials.token_url, self._credentials.client_id, value)

    async def _fetch_token(self) -> AccessToken:
        creds = self._credentials
        assert creds.token_url is not None
        response = await self._post_token(creds)
        if response.status_code in (400, 401, 403):
            raise CpiAuthError(
                f"CPI token endpoint {_where(creds.token_url)} refused client id {creds.client_id!r} "
                f"(HTTP {response.status_code}); check the client id and secret",
                status=response.status_code,
            )
        token = self._accept(response, creds.token_url, _parse_token)
        self._tokens.put(creds.token_url, creds.client_id, token)
        return token

    async def _post_token(self, creds: Credentials) -> httpx.Response:
        assert creds.token_url is not None
        try:
            return await self._http.post(
                creds.token_url,
                data={"grant_type": "client_credentials"},
                auth=(creds.client_id, creds.client_secret),
                headers={"Accept": "application/json"},
                timeout=self._policy.timeout_s,
            )
        except httpx.TimeoutException as exc:
            raise CpiTimeout(f"CPI token endpoint {_where(creds.token_url)} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise CpiTimeout(f"CPI token endpoint {_where(creds.token_url)} connection failed") from exc


def _parse_token(response: httpx.Response) -> AccessToken:
    body = response.json()
    value = body["access_token"]
    if not isinstance(value, str) or not value:
        raise ValueError("no access_token in the token reply")
    expires = body.get("expires_in")
    return AccessToken.from_reply(value, float(expires) if expires is not None else None)


def _status_error(response: httpx.Response, url: str) -> CpiError:
    status = response.status_code
    where = _where(url)
    detail = _odata_message(response)
    if status in (401, 403):
        return CpiAuthError(f"CPI {where} refused access (HTTP {status}){detail}", status=status)
    if status == 404:
        return CpiNotFound(f"CPI {where} not found (HTTP 404){detail}", status=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        hint = f", Retry-After {retry_after:g}s" if retry_after is not None else ""
        return CpiRateLimited(f"CPI {where} rate limit exceeded (HTTP 429{hint})", retry_after_s=retry_after)
    if status >= 500:
        return CpiServerError(f"CPI {where} server error (HTTP {status}){detail}", status=status)
    return CpiBadRequest(f"CPI {where} rejected the request (HTTP {status}){detail}", status=status)


def parse_retry_after(raw: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None when absent or unreadable."""
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _unexpected_html(response: httpx.Response) -> bool:
    accept = response.request.headers.get("accept", "")
    return response.headers.get("content-type", "").startswith("text/html") and "html" not in accept


def _odata_message(response: httpx.Response) -> str:
    """``: <text>`` from an OData error body (JSON or XML), or nothing (bodies are never echoed raw)."""
    try:
        value = response.json()["error"]["message"]["value"]
    except (ValueError, KeyError, TypeError):
        match = _XML_MESSAGE.search(response.text)
        value = html.unescape(match.group(1)) if match else None
    return f": {_short(value)}" if isinstance(value, str) and value else ""


def _where(url: str) -> str:
    """Host and path of a URL for messages: no query string, no credentials."""
    parsed = httpx.URL(url)
    return f"{parsed.host}:{parsed.port or ''}{parsed.path}" if parsed.port else f"{parsed.host}{parsed.path}"


def _short(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
