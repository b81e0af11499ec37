"""API tokens (stored as SHA-256 hashes only, with an expiry) and console sessions.

A token is the credential of a script or a person; a console session is one browser sign-in made
with a token. The browser only ever holds a random session id (hashed here like tokens), so a stolen
cookie is worth one session that ends at sign-out, after idling, at its absolute limit, or as soon as
its token is revoked or expires -- never the token itself.
"""

from __future__ import annotations

import secrets as pysecrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.auth.schemas import TokenRevoked, TokenView
from admin_api.context import Principal
from core.db.models.auth import ApiToken, ConsoleSession
from core.db.models.base import utcnow
from core.errors import IntegraMonError
from core.secrets import hash_token, new_token

__all__ = ["MAX_EXPIRY_DAYS", "ROLES", "TokenExists", "TokenNotFound", "create_token", "end_session", "list_tokens",
           "principal_for_session", "principal_for_token", "revoke_token", "start_session"]

ROLES = ("viewer", "admin")
MAX_EXPIRY_DAYS = 3650
DEFAULT_EXPIRY_DAYS = 90
_TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often per session


class TokenExists(IntegraMonError):
    """A token with this name already exists (names are what the audit log shows)."""


class TokenNotFound(IntegraMonError):
    """No token with this name."""


def create_token(session: Session, name: str, role: str, expires_in_days: int | None = None,
                 by: Principal | None = None) -> str:
    """Store a new token's hash and return the plain token (the only time anyone sees it); audited."""
    if role not in ROLES:
        raise IntegraMonError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip() or len(name) > 128:
        raise IntegraMonError("token name must be 1-128 characters")
    days = DEFAULT_EXPIRY_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise IntegraMonError(f"expiry must be between 1 and {MAX_EXPIRY_DAYS} days, not {days}")
    token = new_token()
    expires_at = utcnow() + timedelta(days=days)
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token), expires_at=expires_at))
    try:
        session.flush()
    except IntegrityError as exc:
        raise TokenExists(f"a token named {name!r} already exists") from exc
    audit(session, by or Principal("cli", "admin"), "token.create", f"token:{name}",
          {"name": name, "role": role, "expires_at": expires_at.isoformat()})
    return token


def list_tokens(session: Session) -> list[TokenView]:
    """Every token's name, role and dates (never a hash)."""
    now = utcnow()
    rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [TokenView(name=t.name, role=t.role, created_at=t.created_at, expires_at=t.expires_at,
                      revoked_at=t.revoked_at,
                      active=t.revoked_at is None and (t.expires_at is None or t.expires_at > now)) for t in rows]


def revoke_token(session: Session, name: str, by: Principal | None = None) -> TokenRevoked:
    """Revoke a token and every console session signed in with it; audited."""
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise TokenNotFound(f"no token named {name!r}")
    now = utcnow()
    already = token.revoked_at is not None
    if not already:
        token.revoked_at = now
    ended = session.execute(update(ConsoleSession).where(
        ConsoleSession.token_id == token.id, ConsoleSession.revoked_at.is_(None)).values(revoked_at=now))
    audit(session, by or Principal("cli", "admin"), "token.revoke", f"token:{name}",
          {"name": name, "already_revoked": already, "sessions_ended": int(ended.rowcount or 0)})  # type: ignore[attr-defined]
    return TokenRevoked(name=name, revoked_at=token.revoked_at or now)


def _valid_token(now: datetime) -> Any:
    return (ApiToken.revoked_at.is_(None)) & (ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now))


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The principal a plain token belongs to, or None if unknown, revoked or expired."""
    row = session.execute(
        select(ApiToken.name, ApiToken.role).where(ApiToken.token_hash == hash_token(token), _valid_token(utcnow()))
    ).first()
    return Principal(name=row.name, role=row.role) if row else None


def start_session(session: Session, token: str, idle_minutes: int, max_hours: int) -> tuple[str, Principal] | None:
    """Sign in with a token: a new session id (plain, for the cookie) and its principal, or None."""
    now = utcnow()
    row = session.execute(select(ApiToken.id, ApiToken.name, ApiToken.role).where(
        ApiToken.token_hash == hash_token(token), _valid_token(now))).first()
    if row is None:
        return None
    session_id = pysecrets.token_urlsafe(32)
    session.add(ConsoleSession(session_hash=hash_token(session_id), token_id=row.id, created_at=now,
                               last_seen_at=now, expires_at=now + timedelta(hours=max_hours)))
    audit(session, Principal(row.name, row.role), "console.sign_in", f"token:{row.name}", {})
    return session_id, Principal(row.name, row.role)


def principal_for_session(session: Session, session_id: str, idle_minutes: int) -> Principal | None:
    """The principal of a live session (touching its last use), or None once it ended in any way."""
    now = utcnow()
    row = session.execute(
        select(ConsoleSession.id, ConsoleSession.last_seen_at, ApiToken.name, ApiToken.role)
        .join(ApiToken, ApiToken.id == ConsoleSession.token_id)
        .where(ConsoleSession.session_hash == hash_token(session_id), ConsoleSession.revoked_at.is_(None),
               ConsoleSession.expires_at > now, ConsoleSession.last_seen_at > now - timedelta(minutes=idle_minutes),
               _valid_token(now))
    ).first()
    if row is None:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        session.execute(update(ConsoleSession).where(ConsoleSession.id == row.id).values(last_seen_at=now))
    return Principal(name=row.name, role=row.role)


def end_session(session: Session, session_id: str) -> None:
    """Sign-out: the session id stops working at once, wherever it was copied to."""
    session.execute(update(ConsoleSession).where(
        ConsoleSession.session_hash == hash_token(session_id), ConsoleSession.revoked_at.is_(None)
    ).values(revoked_at=utcnow()))
