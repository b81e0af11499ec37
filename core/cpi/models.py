"""Parsed CPI entities: small frozen dataclasses built from OData v2 JSON entities.

Parsing is tolerant of the quirks of real replies (see :mod:`core.cpi.values`, :mod:`core.cpi.dates`)
and strict about shape: a missing key or a value of the wrong kind raises ``ValueError`` /
``KeyError`` / ``TypeError``, which the client turns into ``CpiMalformedResponse``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.cpi.dates import EPOCH, parse_odata_date
from core.cpi.values import as_bool, as_int, as_str
from core.cpi.wire import MplWire

__all__ = [
    "AdapterAttribute",
    "CustomHeaderProperty",
    "DesigntimeArtifact",
    "IntegrationPackage",
    "MessageLog",
    "MessageLogPage",
    "MessageStoreEntry",
    "MplAttachment",
    "RuntimeArtifact",
]

Entity = Mapping[str, Any]


def _fast_date(raw: str | int | None) -> datetime | None:
    """``/Date(ms)/`` without a regex (the hot path); anything else goes to the full parser."""
    if raw.__class__ is str and raw[:6] == "/Date(" and raw[-2:] == ")/" and raw[6:-2].isdigit():
        return EPOCH + timedelta(milliseconds=int(raw[6:-2]))
    return parse_odata_date(raw)


def _fast_bool(raw: bool | str | None) -> bool | None:
    return raw if raw is None or raw.__class__ is bool else as_bool(raw)


def _plain(entity: Entity) -> dict[str, Any]:
    """The entity without OData bookkeeping (``__metadata``, deferred navigation links)."""
    return {
        key: value
        for key, value in entity.items()
        if key != "__metadata" and not (isinstance(value, dict) and "__deferred" in value)
    }


@dataclass(slots=True)
class MessageLog:
    """One MessageProcessingLog, every property of SAP's spec in snake_case (``as_dict`` for storage).

    Not frozen on purpose: a frozen dataclass's ``__init__`` costs about 4x more, and this class is
    built 1,000 times per page on the ingestion hot path.
    """

    message_guid: str
    status: str
    log_start: datetime | None
    log_end: datetime | None
    correlation_id: str | None = None
    application_message_id: str | None = None
    application_message_type: str | None = None
    predecessor_message_guid: str | None = None
    sender: str | None = None
    receiver: str | None = None
    custom_status: str | None = None
    log_level: str | None = None
    iflow_id: str | None = None
    iflow_name: str | None = None
    iflow_type: str | None = None
    package_id: str | None = None
    package_name: str | None = None
    alternate_web_link: str | None = None
    archiving_status: str | None = None
    archiving_sender_channel_messages: bool | None = None
    archiving_receiver_channel_messages: bool | None = None
    archiving_log_attachments: bool | None = None
    archiving_persisted_messages: bool | None = None
    transaction_id: str | None = None
    previous_component_name: str | None = None
    local_component_name: str | None = None
    origin_component_name: str | None = None

    @classmethod
    def from_wire(cls, wire: MplWire) -> MessageLog:
        """From the typed decoder of :mod:`core.cpi.wire` (the paging hot path)."""
        artifact = wire.IntegrationArtifact
        if not wire.MessageGuid:
            raise ValueError("MessageProcessingLog without MessageGuid")
        return cls(
            message_guid=wire.MessageGuid,
            status=wire.Status or "",
            log_start=_fast_date(wire.LogStart),
            log_end=_fast_date(wire.LogEnd),
            correlation_id=wire.CorrelationId,
            application_message_id=wire.ApplicationMessageId,
            application_message_type=wire.ApplicationMessageType,
            predecessor_message_guid=wire.PredecessorMessageGuid,
            sender=wire.Sender,
            receiver=wire.Receiver,
            custom_status=wire.CustomStatus,
            log_level=wire.LogLevel,
            iflow_id=(artifact.Id if artifact else None) or wire.IntegrationFlowName,
            iflow_name=artifact.Name if artifact else None,
            iflow_type=artifact.Type if artifact else None,
            package_id=artifact.PackageId if artifact else None,
            package_name=artifact.PackageName if artifact else None,
            alternate_web_link=wire.AlternateWebLink,
            archiving_status=wire.ArchivingStatus,
            archiving_sender_channel_messages=_fast_bool(wire.ArchivingSenderChannelMessages),
            archiving_receiver_channel_messages=_fast_bool(wire.ArchivingReceiverChannelMessages),
            archiving_log_attachments=_fast_bool(wire.ArchivingLogAttachments),
            archiving_persisted_messages=_fast_bool(wire.ArchivingPersistedMessages),
            transaction_id=wire.TransactionId,
            previous_component_name=wire.PreviousComponentName,
            local_component_name=wire.LocalComponentName,
            origin_component_name=wire.OriginComponentName,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-able snake_case view (dates as ISO 8601) for storing the fields we have no column for."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            data[name] = value.isoformat() if isinstance(value, datetime) else value
        return data

    @classmethod
    def from_entity(cls, entity: Entity) -> MessageLog:
        """Parse one JSON entity; ``IntegrationFlowName`` stands in when ``IntegrationArtifact`` is absent."""
        artifact = entity.get("IntegrationArtifact") or {}
        guid = as_str(entity["MessageGuid"])
        if not guid:
            raise ValueError("MessageProcessingLog without MessageGuid")
        return cls(
            message_guid=guid,
            status=as_str(entity.get("Status")) or "",
            log_start=parse_odata_date(entity.get("LogStart")),
            log_end=parse_odata_date(entity.get("LogEnd")),
            correlation_id=as_str(entity.get("CorrelationId")),
            application_message_id=as_str(entity.get("ApplicationMessageId")),
            application_message_type=as_str(entity.get("ApplicationMessageType")),
            predecessor_message_guid=as_str(entity.get("PredecessorMessageGuid")),
            sender=as_str(entity.get("Sender")),
            receiver=as_str(entity.get("Receiver")),
            custom_status=as_str(entity.get("CustomStatus")),
            log_level=as_str(entity.get("LogLevel")),
            iflow_id=as_str(artifact.get("Id")) or as_str(entity.get("IntegrationFlowName")),
            iflow_name=as_str(artifact.get("Name")),
            iflow_type=as_str(artifact.get("Type")),
            package_id=as_str(artifact.get("PackageId")),
            package_name=as_str(artifact.get("PackageName")),
            alternate_web_link=as_str(entity.get("AlternateWebLink")),
            archiving_status=as_str(entity.get("ArchivingStatus")),
            archiving_sender_channel_messages=as_bool(entity.get("ArchivingSenderChannelMessages")),
            archiving_receiver_channel_messages=as_bool(entity.get("ArchivingReceiverChannelMessages")),
            archiving_log_attachments=as_bool(entity.get("ArchivingLogAttachments")),
            archiving_persisted_messages=as_bool(entity.get("ArchivingPersistedMessages")),
            transaction_id=as_str(entity.get("TransactionId")),
            previous_component_name=as_str(entity.get("PreviousComponentName")),
            local_component_name=as_str(entity.get("LocalComponentName")),
            origin_component_name=as_str(entity.get("OriginComponentName")),
        )


@dataclass(frozen=True, slots=True)
class MessageLogPage:
    """One reply page of MessageProcessingLogs: at most 1,000 logs, the ``__next`` link, ``__count``."""

    logs: list[MessageLog]
    next_link: str | None = None
    total_count: int | None = None

    def __iter__(self) -> Iterator[MessageLog]:
        return iter(self.logs)

    def __len__(self) -> int:
        return len(self.logs)


@dataclass(frozen=True, slots=True)
class CustomHeaderProperty:
    """A custom header (business key) written by the iflow, e.g. ``po_number`` = ``4711``."""

    id: str | None
    name: str | None
    value: str | None

    @classmethod
    def from_entity(cls, entity: Entity) -> CustomHeaderProperty:
        return cls(as_str(entity.get("Id")), as_str(entity.get("Name")), as_str(entity.get("Value")))


@dataclass(frozen=True, slots=True)
class AdapterAttribute:
    """An attribute an adapter recorded for the message (e.g. AS2 message id)."""

    id: str | None
    adapter_id: str | None
    adapter_message_id: str | None
    name: str | None
    value: str | None

    @classmethod
    def from_entity(cls, entity: Entity) -> AdapterAttribute:
        return cls(
            as_str(entity.get("Id")),
            as_str(entity.get("AdapterId")),
            as_str(entity.get("AdapterMessageId")),
            as_str(entity.get("Name")),
            as_str(entity.get("Value")),
        )


@dataclass(frozen=True, slots=True)
class MplAttachment:
    """A message-processing-log attachment (metadata; the body is fetched with ``attachment_body``)."""

    id: str
    message_guid: str | None
    timestamp: datetime | None
    name: str | None
    content_type: str | None
    payload_size: int | None

    @classmethod
    def from_entity(cls, entity: Entity) -> MplAttachment:
        return cls(
            id=as_str(entity["Id"]) or "",
            message_guid=as_str(entity.get("MessageGuid")),
            timestamp=parse_odata_date(entity.get("TimeStamp")),
            name=as_str(entity.get("Name")),
            content_type=as_str(entity.get("ContentType")),
            payload_size=as_int(entity.get("PayloadSize")),
        )


@dataclass(frozen=True, slots=True)
class MessageStoreEntry:
    """A message persisted by a Persist step (payload fetched with ``message_store_payload``)."""

    id: str
    message_guid: str | None
    message_store_id: str | None
    timestamp: datetime | None
    has_attachments: bool | None

    @classmethod
    def from_entity(cls, entity: Entity) -> MessageStoreEntry:
        return cls(
            id=as_str(entity["Id"]) or "",
            message_guid=as_str(entity.get("MessageGuid")),
            message_store_id=as_str(entity.get("MessageStoreId")),
            timestamp=parse_odata_date(entity.get("TimeStamp", entity.get("Timestamp"))),  # SAP's spec has both
            has_attachments=as_bool(entity.get("HasAttachments")),
        )


@dataclass(frozen=True, slots=True)
class IntegrationPackage:
    """A design-time package; dates arrive as epoch-ms strings."""

    id: str
    name: str | None
    version: str | None
    vendor: str | None
    mode: str | None
    short_text: str | None
    created_by: str | None
    modified_by: str | None
    creation_date: datetime | None
    modified_date: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_entity(cls, entity: Entity) -> IntegrationPackage:
        return cls(
            id=as_str(entity["Id"]) or "",
            name=as_str(entity.get("Name")),
            version=as_str(entity.get("Version")),
            vendor=as_str(entity.get("Vendor")),
            mode=as_str(entity.get("Mode")),
            short_text=as_str(entity.get("ShortText")),
            created_by=as_str(entity.get("CreatedBy")),
            modified_by=as_str(entity.get("ModifiedBy")),
            creation_date=parse_odata_date(entity.get("CreationDate")),
            modified_date=parse_odata_date(entity.get("ModifiedDate")),
            raw=_plain(entity),
        )


@dataclass(frozen=True, slots=True)
class DesigntimeArtifact:
    """An integration flow of a package; ``version`` changes when the flow is saved as a new version."""

    id: str
    version: str | None
    package_id: str | None
    name: str | None
    description: str | None

    @classmethod
    def from_entity(cls, entity: Entity) -> DesigntimeArtifact:
        return cls(
            id=as_str(entity["Id"]) or "",
            version=as_str(entity.get("Version")),
            package_id=as_str(entity.get("PackageId")),
            name=as_str(entity.get("Name")),
            description=as_str(entity.get("Description")),
        )


@dataclass(frozen=True, slots=True)
class RuntimeArtifact:
    """A deployed artifact; ``status`` is STARTED, STARTING, ERROR ..."""

    id: str
    version: str | None
    name: str | None
    type: str | None
    deployed_by: str | None
    deployed_on: datetime | None
    status: str | None

    @classmethod
    def from_entity(cls, entity: Entity) -> RuntimeArtifact:
        return cls(
            id=as_str(entity["Id"]) or "",
            version=as_str(entity.get("Version")),
            name=as_str(entity.get("Name")),
            type=as_str(entity.get("Type")),
            deployed_by=as_str(entity.get("DeployedBy")),
            deployed_on=parse_odata_date(entity.get("DeployedOn")),
            status=as_str(entity.get("Status")),
        )
