"""Send queued alert notifications; a failed one stays queued and is retried by later runs (up to a cap).

A notification row holds the redacted target; the real one comes from its rule's sealed channels. When
the key cannot open them the notification fails with an error naming INTEGRAMON_SECRET_KEY (logged and
kept on the row): it is never sent to the redacted ``https://host/***``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.alerting.channels import ChannelGone, UnreadableChannels, delivery_target
from core.db.models.alerting import Alert, AlertNotification, AlertRule
from core.db.models.base import utcnow
from core.secrets import SecretBox
from core.settings import Settings
from functions.alerting.delivery import DeliveryError, post_webhook, send_email
from functions.alerting.engine import event_payload

__all__ = ["MAX_ATTEMPTS", "Outgoing", "deliver_pending"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # runs that try a notification before it is left as failed for the console


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification to send: ``target`` is the real one, or None with ``problem`` saying why not."""

    id: int
    channel: str
    target: str | None
    event: str
    payload: dict[str, Any]
    problem: str | None = None


def _resolve(box: SecretBox, rule: AlertRule, notification: AlertNotification) -> tuple[str | None, str | None]:
    """(real target, None) or (None, why it cannot be delivered): never the stored ``***`` copy."""
    try:
        return delivery_target(rule, notification.channel_index, notification.target, box), None
    except UnreadableChannels as exc:
        log.error("alert notification %s (rule %s): %s", notification.id, rule.id, exc)
        return None, str(exc)
    except ChannelGone as exc:
        log.warning("alert notification %s (rule %s): %s", notification.id, rule.id, exc)
        return None, str(exc)


def _pending(sessions: sessionmaker[Session], box: SecretBox, tenant_id: int | None) -> list[Outgoing]:
    with sessions() as session:
        query = (select(AlertNotification, Alert, AlertRule).join(Alert, Alert.id == AlertNotification.alert_id)
                 .join(AlertRule, AlertRule.id == Alert.rule_id)
                 .where(AlertNotification.status.in_(("pending", "failed")),
                        AlertNotification.attempts < MAX_ATTEMPTS))
        if tenant_id is not None:
            query = query.where(Alert.tenant_id == tenant_id)
        rows = session.execute(query.order_by(AlertNotification.id)).all()
        out: list[Outgoing] = []
        for n, a, r in rows:
            target, problem = _resolve(box, r, n)
            out.append(Outgoing(n.id, n.channel, target, n.event, {"event": f"alert.{n.event}", **event_payload(r, a)},
                                problem))
        return out


def _subject(item: Outgoing) -> str:
    p = item.payload
    return f"[IntegraMon] alert {item.event}: {p['rule']} ({p['scope']})"


def _body(item: Outgoing) -> str:
    p = item.payload
    return (f"Alert {p['alert_id']} {item.event}.\nRule: {p['rule']} ({p['condition']})\nScope: {p['scope']}\n"
            f"Count: {p['count']} (peak {p['peak']})\n{p['summary']}\nOpened: {p['opened_at']}\n"
            f"Resolved: {p['resolved_at'] or '-'}\n")


async def _send(settings: Settings, item: Outgoing) -> None:
    if item.target is None:
        raise DeliveryError(f"not delivered: {item.problem}")
    if item.channel == "webhook":
        await post_webhook(item.target, item.payload)
    else:
        await send_email(settings, [t.strip() for t in item.target.split(",") if t.strip()], _subject(item),
                         _body(item))


def _record(sessions: sessionmaker[Session], item: Outgoing, error: str | None) -> None:
    with sessions.begin() as session:
        session.execute(update(AlertNotification).where(AlertNotification.id == item.id).values(
            status="failed" if error else "sent", attempts=AlertNotification.attempts + 1,
            last_error=error[:500] if error else None, sent_at=None if error else utcnow()))


async def deliver_pending(settings: Settings, sessions: sessionmaker[Session],
                          tenant_id: int | None = None) -> tuple[int, int]:
    """Deliver every queued notification (of one tenant when given); returns (sent, failed).

    The per-tenant alert jobs of one firing run side by side: each delivers only its tenant's
    notifications, so none is sent twice.
    """
    sent = failed = 0
    box = SecretBox(settings)
    for item in await asyncio.to_thread(_pending, sessions, box, tenant_id):
        try:
            await _send(settings, item)
        except DeliveryError as exc:
            await asyncio.to_thread(_record, sessions, item, str(exc))
            failed += 1
            continue
        await asyncio.to_thread(_record, sessions, item, None)
        sent += 1
    return sent, failed
