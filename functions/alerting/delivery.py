"""Deliver notifications by webhook (httpx POST of JSON) and e-mail (SMTP), each retried a few times.

Used by alerts and agent reports. A delivery that still fails after its attempts raises
:class:`DeliveryError`; callers record it and try again on a later run instead of losing it.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from core.errors import RetryableJobError
from core.settings import Settings
from core.urls import mask_text, url_host

__all__ = ["DeliveryError", "post_webhook", "send_email"]

ATTEMPTS = 3
BACKOFF_S = 0.2
TIMEOUT_S = 10.0


class DeliveryError(RetryableJobError):
    """A webhook or e-mail could not be delivered after all attempts."""


async def post_webhook(url: str, payload: dict[str, Any], *, attempts: int = ATTEMPTS,
                       backoff_s: float = BACKOFF_S) -> None:
    """POST ``payload`` as JSON; any 2xx is success, 4xx/5xx and network errors are retried."""
    last = ""
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        for attempt in range(1, attempts + 1):
            try:
                reply = await client.post(url, json=payload)
                if reply.is_success:
                    return
                last = f"HTTP {reply.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"  # httpx may quote the URL: masked below
            if attempt < attempts:
                await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
    # the host only: a webhook URL often carries its secret in the path or query
    raise DeliveryError(f"webhook to {url_host(url)} failed after {attempts} attempts: {mask_text(last)}")


def _send_once(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
        smtp.send_message(message)


async def send_email(settings: Settings, to: list[str], subject: str, body: str, *,
                     attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S) -> None:
    """Send a plain-text e-mail through ``smtp_host``; fails at once when e-mail is not configured."""
    if not settings.smtp_host:
        raise DeliveryError("e-mail delivery is off: INTEGRAMON_SMTP_HOST is not set")
    if not to:
        raise DeliveryError("e-mail delivery needs at least one recipient")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, ", ".join(to), subject
    message.set_content(body)
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            await asyncio.to_thread(_send_once, settings, message)
            return
        except (smtplib.SMTPException, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"  # httpx may quote the URL: masked below
        if attempt < attempts:
            await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
    raise DeliveryError(f"e-mail to {', '.join(to)} failed after {attempts} attempts: {last}")
