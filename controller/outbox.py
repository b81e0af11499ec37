"""Outbox relay: publish unsent ``outbox_event`` rows to the RabbitMQ topic exchange, then mark them sent.

pika's BlockingConnection is not thread-safe, so the relay owns one connection on one dedicated
thread (all pika calls run there). Publisher confirms mean a row is marked sent only after the
broker took it; RabbitMQ down means the rows stay unsent (attempts and last_error are recorded)
and go out once it is back. Delivery is at-least-once; ``message_id`` is the event id for de-duplication.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.dialect import is_postgres
from core.db.models.base import utcnow
from core.db.models.outbox import OutboxEvent
from core.errors import ServiceUnavailable
from core.outage import RABBITMQ
from core.settings import Settings
from core.urls import mask_text

__all__ = ["OutboxRelay"]

log = logging.getLogger(__name__)


class OutboxRelay:
    """One ``tick`` publishes up to ``batch`` waiting events, oldest first."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *, batch: int = 500) -> None:
        self._url = settings.rabbitmq_url
        self._exchange = settings.rabbitmq_exchange
        self._sessions = sessions
        self._batch = batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-relay")
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    async def tick(self) -> int:
        """Returns how many events were published; raises ServiceUnavailable when RabbitMQ is down."""
        if not self._url:
            return 0  # no broker configured: events stay in the outbox
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._relay_batch)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=False)

    def _relay_batch(self) -> int:
        with self._sessions() as session, session.begin():
            stmt = select(OutboxEvent.id, OutboxEvent.routing_key, OutboxEvent.payload, OutboxEvent.created_at) \
                .where(OutboxEvent.sent_at.is_(None)).order_by(OutboxEvent.id).limit(self._batch)
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(session.execute(stmt).all())
            if not rows:
                self._keep_alive()
                return 0
            sent, error = self._publish(rows)
            now = utcnow()
            if sent:
                session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(sent))
                                .values(sent_at=now, attempts=OutboxEvent.attempts + 1, last_error=None))
            if error is not None:
                waiting = [row.id for row in rows if row.id not in set(sent)]
                session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(waiting))
                                .values(attempts=OutboxEvent.attempts + 1, last_error=error[:500]))
        if error is not None:
            raise ServiceUnavailable(f"RabbitMQ publish failed, {len(rows) - len(sent)} events wait: {error}",
                                     dependency=RABBITMQ)
        return len(sent)

    def _publish(self, rows: list[Any]) -> tuple[list[int], str | None]:
        sent: list[int] = []
        try:
            channel = self._ensure_channel()
            for row in rows:
                channel.basic_publish(self._exchange, row.routing_key, json.dumps(row.payload).encode(),
                                      _properties(row.id, row.routing_key, row.created_at))
                sent.append(row.id)
        except (AMQPError, OSError) as exc:
            self._disconnect()
            return sent, mask_text(f"{type(exc).__name__}: {exc}")
        return sent, None

    def _ensure_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._disconnect()
        params = pika.URLParameters(self._url)
        params.connection_attempts = 1
        params.socket_timeout = 5
        params.blocked_connection_timeout = 10
        self._connection = pika.BlockingConnection(params)
        channel = self._connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        self._channel = channel
        return channel

    def _keep_alive(self) -> None:
        """Serve AMQP heartbeats while idle so the broker does not drop the connection."""
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.process_data_events(0)
            except (AMQPError, OSError):
                self._disconnect()

    def _disconnect(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (AMQPError, OSError) as exc:
                log.debug("closing the RabbitMQ connection failed: %s", exc)


def _properties(event_id: int, routing_key: str, created_at: datetime) -> pika.BasicProperties:
    """Body = the event payload as JSON; the event id travels as message_id (for de-duplication)."""
    return pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=str(event_id),
                                type=routing_key, timestamp=int(created_at.timestamp()))
