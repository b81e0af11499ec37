"""msgspec decoders for the hot path: a page of message processing logs.

Decoding straight into typed structs skips ``__metadata`` and the deferred navigation links (most
of a CPI reply's bytes) and is several times faster than building dicts and walking them. Types are
loose where real tenants are loose: flags may be booleans or strings, counts numbers or strings.
"""

from __future__ import annotations

import msgspec

__all__ = ["MplPageWire", "MplWire", "decode_mpl_page"]


class ArtifactWire(msgspec.Struct, frozen=True):
    Id: str | None = None
    Name: str | None = None
    Type: str | None = None
    PackageId: str | None = None
    PackageName: str | None = None


class MplWire(msgspec.Struct, frozen=True):
    """The properties of a MessageProcessingLog that we keep (every property of SAP's spec)."""

    MessageGuid: str | None = None
    CorrelationId: str | None = None
    ApplicationMessageId: str | None = None
    ApplicationMessageType: str | None = None
    PredecessorMessageGuid: str | None = None
    LogStart: str | int | None = None
    LogEnd: str | int | None = None
    Sender: str | None = None
    Receiver: str | None = None
    IntegrationFlowName: str | None = None
    Status: str | None = None
    AlternateWebLink: str | None = None
    IntegrationArtifact: ArtifactWire | None = None
    LogLevel: str | None = None
    CustomStatus: str | None = None
    ArchivingStatus: str | None = None
    ArchivingSenderChannelMessages: bool | str | None = None
    ArchivingReceiverChannelMessages: bool | str | None = None
    ArchivingLogAttachments: bool | str | None = None
    ArchivingPersistedMessages: bool | str | None = None
    TransactionId: str | None = None
    PreviousComponentName: str | None = None
    LocalComponentName: str | None = None
    OriginComponentName: str | None = None


class _PageBody(msgspec.Struct, frozen=True):
    results: list[MplWire]
    next: str | None = msgspec.field(default=None, name="__next")
    count: str | int | None = msgspec.field(default=None, name="__count")


class MplPageWire(msgspec.Struct, frozen=True):
    d: _PageBody


_page_decoder = msgspec.json.Decoder(MplPageWire)


def decode_mpl_page(body: bytes) -> MplPageWire:
    """Decode a MessageProcessingLogs reply; raises ValueError when it is not one."""
    try:
        return _page_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc
