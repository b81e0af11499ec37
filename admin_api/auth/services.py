"""Create and look up API tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.context import Principal
from core.db.models.auth import ApiToken
from core.errors import IntegraMonError
from core.secrets import hash_token, new_token

__all__ = ["ROLES", "TokenExists", "create_token", "principal_for_token"]

ROLES = ("viewer", "admin")


class TokenExists(IntegraMonError):
    """A token with this name already exists (names are what the audit log shows)."""


def create_token(session: Session, name: str, role: str) -> str:
    """Store a new token's hash and return the plain token (the only time anyone sees it)."""
    if role not in ROLES:
        raise IntegraMonError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip() or len(name) > 128:
        raise IntegraMonError("token name must be 1-128 characters")
    token = new_token()
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token)))
    try:
        session.flush()
    except IntegrityError as exc:
        raise TokenExists(f"a token named {name!r} already exists") from exc
    return token


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The principal a plain token belongs to, or None if unknown or revoked."""
    row = session.execute(
        select(ApiToken.name, ApiToken.role).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    return Principal(name=row.name, role=row.role) if row else None
