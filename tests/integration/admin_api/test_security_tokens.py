"""Token lifecycle and console sessions (issue 12, item 4): expiry, list/revoke in CLI and API,
audit, failed-auth logging and per-address limit, server-side sessions, Secure behind a proxy."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from admin_api import create_app
from admin_api.auth.services import create_token
from core.db.models.auth import ApiToken, AuditLog, ConsoleSession
from core.db.models.base import utcnow
from core.secrets import hash_token
from core.settings import Settings
from tests.ports import free_port
from tests.processes import process_env

CONSOLE = {"x-integramon-console": "1"}


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "integramon", "token", *args], env=process_env(settings),
                          capture_output=True, text=True, timeout=60, check=False)


def _actions(db: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with db() as session:
        return [(a.action, a.target) for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]


async def test_tokens_expire(client: AsyncTestClient[Any], db: sessionmaker[Session], settings: Settings) -> None:
    with db() as session, session.begin():
        token = create_token(session, "short", "viewer", 1)
        row = session.scalar(select(ApiToken).where(ApiToken.name == "short"))
        assert row is not None
        assert row.expires_at is not None
        assert timedelta(hours=23) < row.expires_at - utcnow() <= timedelta(days=1)
        default = create_token(session, "default", "viewer")
        default_row = session.scalar(select(ApiToken).where(ApiToken.name == "default"))
        assert default_row is not None
        assert default_row.expires_at is not None
        assert timedelta(days=89) < default_row.expires_at - utcnow() <= timedelta(days=90)
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    with db() as session, session.begin():
        session.execute(update(ApiToken).where(ApiToken.name == "short").values(expires_at=utcnow()))
    app = create_app(settings, pool_size=2)  # a fresh app: no cached principal
    async with AsyncTestClient(app=app) as fresh:
        gone = await fresh.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401
        ok = await fresh.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {default}"})
        assert ok.status_code == 200


def test_cli_create_with_expiry_list_and_revoke(settings: Settings, db: sessionmaker[Session]) -> None:
    created = _cli(settings, "create", "--role", "viewer", "--name", "ci-bot", "--expires-in", "7")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert "7 days" in created.stdout
    listed = _cli(settings, "list")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith("ci-bot"))
    assert "active" in line
    assert token not in listed.stdout
    assert hash_token(token) not in listed.stdout
    revoked = _cli(settings, "revoke", "ci-bot")
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in next(line for line in _cli(settings, "list").stdout.splitlines() if line.startswith("ci-bot"))
    assert _actions(db) == [("token.create", "token:ci-bot"), ("token.revoke", "token:ci-bot")]
    for bad in (("revoke", "nobody"), ("create", "--role", "admin", "--expires-in", "0"),
                ("create", "--role", "admin", "--expires-in", "soon")):
        done = _cli(settings, *bad)
        assert done.returncode == 2, bad
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


async def test_admins_manage_tokens_through_the_api(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], db: sessionmaker[Session]
) -> None:
    assert (await client.get("/api/v1/auth/tokens", headers=viewer)).status_code == 403
    assert (await client.post("/api/v1/auth/tokens", headers=viewer,
                              json={"name": "x", "role": "admin"})).status_code == 403
    made = await client.post("/api/v1/auth/tokens", headers=admin,
                             json={"name": "robot", "role": "viewer", "expires_in_days": 30})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    robot = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/auth/me", headers=robot)).json() == {"name": "robot", "role": "viewer"}
    listing = await client.get("/api/v1/auth/tokens", headers=admin)
    assert token not in listing.text
    assert hash_token(token) not in listing.text
    assert {t["name"] for t in listing.json()["items"]} >= {"robot", "ops-admin", "ops-viewer"}
    assert (await client.post("/api/v1/auth/tokens", headers=admin,
                              json={"name": "robot", "role": "viewer"})).status_code == 409
    bad = await client.post("/api/v1/auth/tokens", headers=admin,
                            json={"name": "r2", "role": "viewer", "expires_in_days": 0})
    assert bad.status_code == 400
    assert (await client.post("/api/v1/auth/tokens/robot/revoke", headers=admin)).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=robot)).status_code == 401
    assert (await client.post("/api/v1/auth/tokens/nobody/revoke", headers=admin)).status_code == 404
    with db() as session:
        entries = session.scalars(select(AuditLog).where(AuditLog.target == "token:robot")).all()
    assert [(e.actor, e.action) for e in entries] == [("ops-admin", "token.create"), ("ops-admin", "token.revoke")]


async def test_failed_authentication_is_logged_without_the_token_and_limited(
    settings: Settings, db: sessionmaker[Session], admin_token: str
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign, assignment]  # a stand-in: takes no keywords
    logging.getLogger("admin_api.auth").addHandler(handler)
    app = create_app(replace(settings, auth_failures_per_minute=3), pool_size=2)
    wrong = "imt_this-is-a-wrong-token-0123456789"
    async with AsyncTestClient(app=app) as client:
        try:
            for _ in range(3):
                answer = await client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {wrong}"})
                assert answer.status_code == 401
            limited = await client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {wrong}"})
            assert limited.status_code == 429
            assert 1 <= int(limited.headers["retry-after"]) <= 60
            # the address is blocked for the rest of the window, a correct token included
            blocked = await client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {admin_token}"})
            assert blocked.status_code == 429
            sign_in = await client.post("/login", data={"token": admin_token, "next": "/jobs"})
            assert sign_in.status_code == 429
        finally:
            logging.getLogger("admin_api.auth").removeHandler(handler)
        messages = [r.getMessage() for r in records]
        assert len(messages) >= 4
        assert all("authentication failed from" in m for m in messages)
        assert not any("this-is-a-wrong" in m for m in messages)


async def test_console_sessions_are_server_side(
    client: AsyncTestClient[Any], admin_token: str, db: sessionmaker[Session]
) -> None:
    signed = await client.post("/login", data={"token": admin_token, "next": "/jobs"}, follow_redirects=False)
    assert signed.status_code == 303
    session_id = signed.cookies["integramon_session"]
    assert session_id != admin_token
    assert admin_token not in signed.headers["set-cookie"]
    set_cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie
    assert "secure" not in set_cookie  # plain http here
    with db() as session:
        row = session.scalar(select(ConsoleSession))
        assert row is not None
        assert row.session_hash == hash_token(session_id)  # only the hash is stored
    cookie = {"Cookie": f"integramon_session={session_id}"}  # sent as a header: the client keeps no jar
    client.cookies.clear()
    assert (await client.get("/api/v1/auth/me", headers=cookie)).status_code == 200
    assert (await client.get("/jobs", headers=cookie)).status_code == 200
    out = await client.post("/logout", headers=cookie, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.clear()
    assert (await client.get("/api/v1/auth/me", headers=cookie)).status_code == 401  # a replayed cookie is dead
    assert (await client.get("/jobs", headers=cookie)).status_code == 401  # the sign-in page


@pytest.mark.parametrize("ending", ["idle", "absolute", "token_revoked", "token_expired"])
async def test_sessions_end_on_timeouts_and_with_their_token(
    settings: Settings, db: sessionmaker[Session], admin: dict[str, str], ending: str
) -> None:
    async with AsyncTestClient(app=create_app(settings, pool_size=2)) as client:
        with db() as session, session.begin():
            token = create_token(session, "person", "admin", 30)
        signed = await client.post("/login", data={"token": token, "next": "/jobs"}, follow_redirects=False)
        cookie = {"Cookie": "integramon_session=" + signed.cookies["integramon_session"]}
        client.cookies.clear()
        assert (await client.get("/api/v1/auth/me", headers=cookie)).status_code == 200
        with db() as session, session.begin():
            if ending == "idle":
                session.execute(update(ConsoleSession).values(
                    last_seen_at=utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)))
            elif ending == "absolute":
                session.execute(update(ConsoleSession).values(expires_at=utcnow()))
            elif ending == "token_expired":
                session.execute(update(ApiToken).where(ApiToken.name == "person").values(expires_at=utcnow()))
        if ending == "token_revoked":
            assert (await client.post("/api/v1/auth/tokens/person/revoke", headers=admin)).status_code == 200
            with db() as session:
                assert session.scalar(select(ConsoleSession.revoked_at)) is not None
        else:
            client.app.state.ctx.tokens.clear()  # past the few-second principal cache
        assert (await client.get("/api/v1/auth/me", headers=cookie)).status_code == 401


async def test_cookie_is_secure_and_hsts_sent_over_https(app: Any, admin_token: str) -> None:
    async with AsyncTestClient(app=app, base_url="https://console.example") as client:
        signed = await client.post("/login", data={"token": admin_token, "next": "/jobs"}, follow_redirects=False)
        assert signed.status_code == 303
        assert "secure" in signed.headers["set-cookie"].lower()
        assert "strict-transport-security" in signed.headers


@pytest.mark.parametrize(("allow", "secure"), [("127.0.0.1", True), ("10.9.9.9", False)])
def test_a_load_balancers_forwarded_proto_counts_when_allowed(
    settings: Settings, admin_token: str, allow: str, secure: bool
) -> None:
    port = free_port()
    env = process_env(settings, INTEGRAMON_FORWARDED_ALLOW_IPS=allow)
    server = subprocess.Popen([sys.executable, "-m", "integramon", "api", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/login", data={"token": admin_token, "next": "/jobs"},
                                   headers={"X-Forwarded-Proto": "https"}, timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "integramon api did not start"
                time.sleep(0.2)
        assert reply.status_code == 303, reply.text
        assert ("secure" in reply.headers["set-cookie"].lower()) is secure
        assert ("strict-transport-security" in reply.headers) is secure
    finally:
        server.terminate()
        server.wait(15)
