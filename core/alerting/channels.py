"""The one way to store and read an alert rule's channels (``alert_rule.channels`` / ``channels_sealed``).

A webhook URL usually carries its secret in the path or query (or ``user:password@``), so channels are
kept as ``core.sealing`` keeps such values: ``channels`` holds the redacted copy (URLs reduced to
scheme and host), ``channels_sealed`` the whole list encrypted with ``INTEGRAMON_SECRET_KEY`` when
redaction changed something (NULL: ``channels`` *is* the real list; the default rule is such a row).

Readers: the alert engine queues notifications from :func:`shown_channels` (no key needed, so an
alert opens even when the key is wrong); delivery resolves the real target with
:func:`delivery_target`; the API shows admins :func:`readable_channels` and viewers the shown copy.
Writers: :func:`store_channels` / :func:`stored_columns`. A notification row keeps only the shown
target and the channel's position in the rule; nothing else reads ``channels``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from core.db.models.alerting import AlertRule
from core.errors import ConfigError
from core.ledger.redaction import redact
from core.sealing import UnreadableSeal, open_sealed, split_sealed
from core.secrets import SecretBox

__all__ = [
    "ChannelGone",
    "StoredChannels",
    "UnreadableChannels",
    "channel_target",
    "delivery_target",
    "readable_channels",
    "rule_channels",
    "shown_channels",
    "shown_target",
    "store_channels",
    "stored_columns",
]

TARGET_LENGTH = 512  # alert_notification.target
_KEY = "channels"  # the sealed document is {"channels": [...]}: the seal format holds an object


class StoredChannels(Protocol):
    """An ``AlertRule`` or a selected row carrying both channel columns."""

    @property
    def channels(self) -> Any: ...

    @property
    def channels_sealed(self) -> str | None: ...


class UnreadableChannels(UnreadableSeal):
    """The sealed channels cannot be opened (the secret key changed, or the seal is damaged)."""


class ChannelGone(ConfigError):
    """A queued notification's channel is no longer on its rule (the rule's channels were changed)."""


def stored_columns(channels: Sequence[dict[str, Any]], box: SecretBox) -> dict[str, Any]:
    """``{"channels": …, "channels_sealed": …}`` to write for ``channels`` (for inserts and migrations)."""
    shown, sealed = split_sealed({_KEY: [dict(c) for c in channels]}, box)
    return {"channels": list(shown[_KEY]), "channels_sealed": sealed}


def store_channels(rule: AlertRule, channels: Sequence[dict[str, Any]], box: SecretBox) -> None:
    """Set both channel columns of ``rule`` (a new or loaded ORM row)."""
    columns = stored_columns(channels, box)
    rule.channels, rule.channels_sealed = columns["channels"], columns["channels_sealed"]


def shown_channels(row: StoredChannels) -> list[dict[str, Any]]:
    """The stored redacted copy: what a viewer sees and what a notification row records."""
    return [c for c in row.channels or [] if isinstance(c, dict)]


def rule_channels(row: StoredChannels, box: SecretBox) -> list[dict[str, Any]]:
    """The real channels; :class:`UnreadableChannels` when the seal cannot be opened (callers must not
    fall back to the redacted copy: a webhook would be posted to ``https://host/***``)."""
    if row.channels_sealed is None:
        return shown_channels(row)
    real = open_sealed(None, row.channels_sealed, box, "the alert rule's channels", UnreadableChannels)
    return [c for c in real.get(_KEY) or [] if isinstance(c, dict)]


def readable_channels(row: StoredChannels, box: SecretBox) -> tuple[list[dict[str, Any]], bool]:
    """For views: the real channels and True; or, when the seal cannot be opened, the redacted copy and False."""
    try:
        return rule_channels(row, box), True
    except UnreadableChannels:
        return shown_channels(row), False


def channel_target(channel: dict[str, Any]) -> str | None:
    """Where a channel delivers: a webhook's URL, an e-mail channel's addresses comma-joined; else None."""
    kind = channel.get("type")
    if kind == "webhook":
        url = channel.get("url")
        return str(url) if url else None
    if kind == "email":
        to = ",".join(str(a) for a in channel.get("to") or [])
        return to or None
    return None


def shown_target(target: str) -> str:
    """A target as a notification row stores it: a URL by the redaction rule, e-mail addresses as they are
    (the rule would only shorten a long list), cut to the column's size."""
    return (str(redact(target)) if "://" in target else target)[:TARGET_LENGTH]


def delivery_target(row: StoredChannels, index: int | None, shown: str, box: SecretBox) -> str:
    """The real target of the notification queued for channel ``index`` of the rule with ``shown`` as
    its stored target. :class:`UnreadableChannels` when the key cannot open the rule's channels;
    :class:`ChannelGone` when that position now holds another channel (never a guess, never ``***``)."""
    channels = rule_channels(row, box)
    if index is not None and 0 <= index < len(channels):
        target = channel_target(channels[index])
        if target is not None and shown_target(target) == shown:
            return target
    raise ChannelGone("the alert rule no longer has the channel this notification was queued for")
