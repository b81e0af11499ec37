"""The worker's pub/sub subscription (functions.runner.subscriber) against real Redis: messages reach
the handler whole and in order once ``subscribe`` returns, and every way the subscription can end
(closed by us, killed by the server, a handler that raises) ends ``wait_closed`` the right way."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from functions.runner.subscriber import subscribe
from tests.integration.runtime.conftest import ThrowawayRedis


async def _numsub(redis: Redis, channel: bytes) -> int:
    return int(dict(await redis.pubsub_numsub(channel))[channel])


async def test_messages_arrive_whole_and_in_order_once_subscribe_returns(redis: Redis) -> None:
    got: list[tuple[bytes, bytes]] = []
    sub = await subscribe(redis, [b"s:a", b"s:b"], lambda channel, data: got.append((channel, data)))
    try:
        # subscribe returned after Redis confirmed both channels: a publish right away is counted
        assert await redis.publish("s:a", "first") == 1
        sent = [(b"s:a" if i % 2 else b"s:b", str(i).encode()) for i in range(200)]
        big = b"x" * 300_000  # far more than one socket read: parsed across several callbacks
        sent.append((b"s:a", big))
        pipe = redis.pipeline(transaction=False)
        for channel, data in sent:
            pipe.publish(channel, data)
        await pipe.execute()
        for _ in range(250):
            if len(got) == len(sent) + 1:
                break
            await asyncio.sleep(0.02)
        assert got == [(b"s:a", b"first"), *sent]
    finally:
        sub.close()
    await sub.wait_closed()  # closed by us: returns without an error


async def test_a_connection_killed_by_the_server_ends_the_subscription_with_connection_error(redis: Redis) -> None:
    sub = await subscribe(redis, [b"s:killed"], lambda channel, data: None)
    try:
        # redis-py leaves execute_command unannotated
        assert await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1  # type: ignore[no-untyped-call]
        with pytest.raises(RedisConnectionError, match="subscription connection lost"):
            await asyncio.wait_for(sub.wait_closed(), 5.0)
    finally:
        sub.close()


async def test_a_handler_that_raises_ends_the_subscription_and_closes_its_connection(redis: Redis) -> None:
    def handler(channel: bytes, data: bytes) -> None:
        raise ValueError(f"cannot handle {data!r}")

    sub = await subscribe(redis, [b"s:bad"], handler)
    try:
        await redis.publish("s:bad", "boom")
        with pytest.raises(ValueError, match="cannot handle b'boom'"):
            await asyncio.wait_for(sub.wait_closed(), 5.0)
        for _ in range(100):  # the connection is closed: Redis forgets the subscriber
            if await _numsub(redis, b"s:bad") == 0:
                break
            await asyncio.sleep(0.02)
        assert await _numsub(redis, b"s:bad") == 0
    finally:
        sub.close()


async def test_close_unsubscribes_and_wait_closed_returns(redis: Redis) -> None:
    sub = await subscribe(redis, [b"s:closed"], lambda channel, data: None)
    assert await _numsub(redis, b"s:closed") == 1
    sub.close()
    await asyncio.wait_for(sub.wait_closed(), 1.0)
    for _ in range(100):
        if await _numsub(redis, b"s:closed") == 0:
            break
        await asyncio.sleep(0.02)
    assert await _numsub(redis, b"s:closed") == 0


async def test_subscribes_on_a_password_protected_server_with_the_clients_own_handshake(
        private_redis: ThrowawayRedis) -> None:
    """AUTH (and the rest of the handshake) is redis-py's; the takeover happens after its replies."""
    admin = private_redis.client()
    admin.config_set("requirepass", "s3cret word")
    url = f"redis://:s3cret%20word@127.0.0.1:{private_redis.port}/0"
    client = Redis.from_url(url)
    got: list[bytes] = []
    try:
        sub = await subscribe(client, [b"s:auth"], lambda channel, data: got.append(data))
        try:
            assert await client.publish("s:auth", "hello") == 1
            for _ in range(100):
                if got:
                    break
                await asyncio.sleep(0.02)
            assert got == [b"hello"]
        finally:
            sub.close()
        wrong = Redis.from_url(f"redis://:wrong@127.0.0.1:{private_redis.port}/0")
        with pytest.raises(RedisError, match=r"(?i)password|auth"):
            await subscribe(wrong, [b"s:auth"], lambda channel, data: None)
        await wrong.aclose()
    finally:
        await client.aclose()
        admin.close()
