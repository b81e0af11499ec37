"""Outbox relay against the real RabbitMQ: events are published with confirms and marked sent;
with RabbitMQ unreachable they wait and go out once it answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.outbox import OutboxRelay
from core.db.models.outbox import OutboxEvent
from core.errors import ServiceUnavailable
from core.events.outbox import record_event
from core.resources import Resources

RABBIT = "amqp://guest:guest@127.0.0.1:5672/%2F"
CLOSED_PORT = "amqp://guest:guest@127.0.0.1:18199/%2F"  # nothing listens there: RabbitMQ "down"


@pytest.fixture
def exchange() -> Iterator[tuple[str, BlockingChannel, str]]:
    """A unique topic exchange with a queue bound to every routing key."""
    name = f"integramon.test.{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(RABBIT))
    channel = connection.channel()
    channel.exchange_declare(name, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, name, routing_key="#")
    try:
        yield name, channel, queue
    finally:
        channel.exchange_delete(name)
        connection.close()


def _record(sessions: sessionmaker[Session], count: int) -> None:
    with sessions() as session, session.begin():
        for i in range(count):
            record_event(session, "run.reconciled", {"run_id": i, "reason": "test"})


Drained = list[tuple[str | None, dict[str, object], str | None]]


def _drain(channel: BlockingChannel, queue: str) -> Drained:
    got: Drained = []
    while True:
        method, props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return got
        assert props is not None
        assert body is not None
        got.append((method.routing_key, json.loads(body), props.message_id))


def _unsent(sessions: sessionmaker[Session]) -> list[OutboxEvent]:
    with sessions() as session:
        return list(session.execute(select(OutboxEvent).where(OutboxEvent.sent_at.is_(None))).scalars())


async def test_events_are_published_and_marked_sent(
    resources: Resources, exchange: tuple[str, BlockingChannel, str]
) -> None:
    name, channel, queue = exchange
    _record(resources.sessions, 3)
    relay = OutboxRelay(replace(resources.settings, rabbitmq_url=RABBIT, rabbitmq_exchange=name), resources.sessions)
    try:
        assert await relay.tick() == 3
        assert await relay.tick() == 0
    finally:
        await relay.close()
    messages = _drain(channel, queue)
    assert [(key, body["run_id"]) for key, body, _ in messages] == [("run.reconciled", i) for i in range(3)]
    assert all(message_id for _, _, message_id in messages)
    assert _unsent(resources.sessions) == []


async def test_events_wait_while_rabbitmq_is_down(
    resources: Resources, exchange: tuple[str, BlockingChannel, str]
) -> None:
    name, channel, queue = exchange
    _record(resources.sessions, 2)
    down = OutboxRelay(
        replace(resources.settings, rabbitmq_url=CLOSED_PORT, rabbitmq_exchange=name), resources.sessions
    )
    try:
        with pytest.raises(ServiceUnavailable, match="2 events wait"):
            await down.tick()
    finally:
        await down.close()
    waiting = _unsent(resources.sessions)
    assert [(e.attempts, bool(e.last_error)) for e in waiting] == [(1, True), (1, True)]

    up = OutboxRelay(replace(resources.settings, rabbitmq_url=RABBIT, rabbitmq_exchange=name), resources.sessions)
    try:
        assert await up.tick() == 2
    finally:
        await up.close()
    assert len(_drain(channel, queue)) == 2
    assert _unsent(resources.sessions) == []
