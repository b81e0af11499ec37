"""OAuth client-credentials tokens for CPI, cached until shortly before they expire.

The token is fetched with the client id/secret as HTTP Basic (as SAP's own tooling does). A cache
can be shared by several clients of one tenant in a process, so each job does not fetch a token.
Neither the secret nor a token is ever put in a log line, an error message or a ``repr``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["AccessToken", "TokenCache"]

EXPIRY_MARGIN_S = 30.0


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and the monotonic time after which we stop using it."""

    value: str = field(repr=False)
    expires_at: float

    @classmethod
    def from_reply(cls, value: str, expires_in_s: float | None) -> AccessToken:
        """Use the token until ``EXPIRY_MARGIN_S`` before its end (an hour when the server gives none)."""
        lifetime = float(expires_in_s) if expires_in_s is not None else 3600.0
        margin = min(EXPIRY_MARGIN_S, lifetime / 10)
        return cls(value=value, expires_at=time.monotonic() + lifetime - margin)

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self.expires_at


class TokenCache:
    """Tokens by (token URL, client id); a token the server rejected is dropped with :meth:`discard`."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], AccessToken] = {}

    def get(self, token_url: str, client_id: str) -> AccessToken | None:
        token = self._tokens.get((token_url, client_id))
        return token if token is not None and token.fresh else None

    def put(self, token_url: str, client_id: str, token: AccessToken) -> None:
        self._tokens[(token_url, client_id)] = token

    def discard(self, token_url: str, client_id: str, value: str) -> None:
        """Forget the token, unless another caller already replaced it with a newer one."""
        current = self._tokens.get((token_url, client_id))
        if current is not None and current.value == value:
            del self._tokens[(token_url, client_id)]
