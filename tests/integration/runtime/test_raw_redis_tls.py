"""The connections taken over from redis-py (core.queues.raw_redis: the enqueuer's lane, the worker's
subscription) work over TLS, as a ``rediss://`` URL asks, on asyncio's loop and on uvloop.

A throw-away ``redis-server`` with a TLS port on a free port, its certificate made here (self-signed,
for 127.0.0.1) and verified by the client."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.asyncio import Redis

from core.queues.raw_redis import open_lane
from functions.runner.subscriber import subscribe
from tests.ports import free_port


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_redis_url(tmp_path: Path) -> Iterator[str]:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert),
         "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
         "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=(tmp_path / "redis.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while "Ready to accept connections" not in (tmp_path / "redis.log").read_text():
            assert proc.poll() is None, (tmp_path / "redis.log").read_text()
            assert time.monotonic() < deadline, "TLS redis-server did not start"
            time.sleep(0.05)
        yield f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}"
    finally:
        proc.terminate()
        proc.wait(10)


async def _lane_and_subscription(url: str) -> tuple[list[object], list[bytes]]:
    client = Redis.from_url(url)
    lane = await open_lane(client)
    got: list[bytes] = []
    sub = await subscribe(client, [b"tls:c"], lambda channel, data: got.append(data))
    try:
        replies = [await lane.call(b"SET", b"tls:k", b"v"), await lane.call(b"GET", b"tls:k"),
                   await lane.call(b"PUBLISH", b"tls:c", b"hello" * 10_000)]
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.02)
        return replies, got
    finally:
        sub.close()
        lane.close()
        await client.aclose()


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_lane_and_subscription_over_tls(tls_redis_url: str, run: object) -> None:
    replies, got = run(_lane_and_subscription(tls_redis_url))  # type: ignore[operator]
    assert replies == [b"OK", b"v", 1]
    assert got == [b"hello" * 10_000]
