"""The message processing logs of one simulated tenant, computed from their index.

Message ``i`` of a tenant is a pure function of (seed, tenant, i): nothing is stored per message
except one "kind" byte (flow index x 8 + status index) kept in a ``bytearray`` so filters on status
and flow run as C-speed regex scans. LogEnd never decreases with ``i`` and the guid encodes ``i`` in
an ASCII-ordered alphabet, so ordering by (LogEnd, MessageGuid) is ordering by index: a page
position (``$skiptoken``) is just an index and stays valid while new messages arrive at the end.

Timeline: ``history_days x history_per_day`` messages spread evenly over the days before
``start_ms``; then one message every ``1/rate`` seconds from ``start_ms`` on, visible once its
LogEnd has passed.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.catalog import Iflow, TenantCatalog
from simulator.config import SimulatorConfig

__all__ = ["STATUSES", "MessageSeries", "mix64"]

STATUSES: tuple[str, ...] = (
    "COMPLETED",
    "FAILED",
    "RETRY",
    "ESCALATED",
    "CANCELLED",
    "DISCARDED",
    "PROCESSING",
    "ABANDONED",
)
FAILED = 1
MAX_DURATION_MS = 4000
_MASK = (1 << 64) - 1
_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"  # ASCII order
_ALPHA_INDEX = {ch: n for n, ch in enumerate(_ALPHABET)}
_INDEX_WIDTH = 10
_INDEX_OFFSET = 37 * 64**9 + 11 * 64**8  # keeps guids looking like CPI's (no run of "-" for small indexes)
_ERRORS = (
    "com.sap.gateway.core.ip.component.odata.exception.OsciException: HTTP Response: 503 Service Unavailable",
    "org.apache.camel.component.ahc.AhcOperationFailedException: HTTP operation failed invoking {url} "
    "with statusCode: 500",
    "javax.xml.transform.TransformerException: com.sap.it.mapping.MappingException: Cannot produce target "
    "element /ns0:Order/Item/Quantity",
    "java.net.SocketTimeoutException: Read timed out while calling {url}",
    "com.sap.it.rt.adapter.http.api.exception.HttpResponseException: An internal server error occured: "
    "401 Unauthorized",
    "org.xml.sax.SAXParseException: Content is not allowed in prolog.",
)


def mix64(value: int) -> int:
    """splitmix64 finaliser: a well-spread 64-bit hash of an int (deterministic, fast enough in Python)."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 12 bits -> 2 characters


def _encode_index(index: int) -> str:
    """10 characters, 6 bits each, most significant first (so text order = number order)."""
    value = index + _INDEX_OFFSET
    return (
        _PAIRS[(value >> 48) & 4095]
        + _PAIRS[(value >> 36) & 4095]
        + _PAIRS[(value >> 24) & 4095]
        + _PAIRS[(value >> 12) & 4095]
        + _PAIRS[value & 4095]
    )


def _decode_index(text: str) -> int | None:
    value = 0
    for ch in text:
        digit = _ALPHA_INDEX.get(ch)
        if digit is None:
            return None
        value = value * 64 + digit
    return value - _INDEX_OFFSET if value >= _INDEX_OFFSET else None


@dataclass(slots=True)
class MessageFacts:
    """Everything about one message that the API shows (not frozen: that makes ``__init__`` 3x slower)."""

    index: int
    guid: str
    correlation_id: str
    status: str
    iflow: Iflow
    log_start_ms: int
    log_end_ms: int
    application_message_id: str | None
    transaction_id: str
    hash: int


class MessageSeries:
    """Index arithmetic for one tenant's message logs (see module docstring)."""

    def __init__(self, config: SimulatorConfig, tenant: str, catalog: TenantCatalog) -> None:
        seed_bytes = hashlib.sha256(f"{config.seed}:{tenant}:messages".encode()).digest()
        self._seed = int.from_bytes(seed_bytes[:8], "big")
        self.guid_prefix = "AG" + "".join(_ALPHABET[b % 64] for b in seed_bytes[8:24])
        self.correlation_prefix = "AG" + "".join(_ALPHABET[b % 64] for b in seed_bytes[24:32]) + "corr_id_"
        self.catalog = catalog
        self.history_count = config.history_days * config.history_per_day
        self.history_start_ms = config.start_ms - config.history_days * 86_400_000
        self.start_ms = config.start_ms
        self.period_us = round(1_000_000 / config.rate) if config.rate > 0 else 0
        self._failure_cut = int(config.failure_ratio * 65536)
        self._flow_table = self._weighted_flow_table(catalog.iflows)
        self.kinds = bytearray()

    @staticmethod
    def _weighted_flow_table(flows: Sequence[Iflow]) -> bytes:
        """256 entries of flow indexes in proportion to each flow's traffic weight."""
        total = sum(flow.weight for flow in flows)
        table: list[int] = []
        for flow in flows:
            table.extend([flow.index] * max(1, flow.weight * 256 // total))
        return bytes((table * 2)[:256])

    # -- time ---------------------------------------------------------------------------

    def log_end_ms(self, index: int) -> int:
        if index < self.history_count:
            span = self.start_ms - self.history_start_ms
            return self.history_start_ms + index * span // self.history_count
        return self.start_ms + (index - self.history_count) * self.period_us // 1000

    def visible_count(self, now_ms: int) -> int:
        """How many messages have completed by ``now_ms`` (grows with time, never shrinks)."""
        if self.period_us == 0 or now_ms < self.start_ms:
            return self.history_count
        return self.history_count + (now_ms - self.start_ms) * 1000 // self.period_us + 1

    def first_index_after(self, ms: int, count: int) -> int:
        """Smallest index with LogEnd > ms (``count`` when none)."""
        return bisect.bisect_right(range(count), ms, key=self.log_end_ms)

    def first_index_at_or_after(self, ms: int, count: int) -> int:
        """Smallest index with LogEnd >= ms."""
        return bisect.bisect_left(range(count), ms, key=self.log_end_ms)

    # -- kinds (status and flow per message) ----------------------------------------------

    def ensure_kinds(self, count: int) -> bytearray:
        """Extend the kind bytes up to ``count`` messages and return them."""
        kinds = self.kinds
        if len(kinds) < count:
            kinds.extend(self._kind(self._hash(i)) for i in range(len(kinds), count))
        return kinds

    def _hash(self, index: int) -> int:
        return mix64(self._seed ^ index)

    def _kind(self, value: int) -> int:
        return self._flow_table[(value >> 16) & 0xFF] * 8 + self._status_index(value)

    def _status_index(self, value: int) -> int:
        roll = value & 0xFFFF
        if roll < self._failure_cut:
            return FAILED
        rest = (value >> 24) & 0x3FF  # 1/1024 steps among the non-failed
        if rest < 10:
            return 2  # RETRY
        if rest < 16:
            return 3  # ESCALATED
        if rest < 19:
            return 4  # CANCELLED
        if rest < 21:
            return 5  # DISCARDED
        return 0

    @staticmethod
    def kind_code(iflow_index: int, status_index: int) -> int:
        return iflow_index * 8 + status_index

    # -- identities ---------------------------------------------------------------------

    def guid(self, index: int) -> str:
        return self.guid_prefix + _encode_index(index)

    def index_of_guid(self, guid: str) -> int | None:
        if not guid.startswith(self.guid_prefix) or len(guid) != len(self.guid_prefix) + _INDEX_WIDTH:
            return None
        return _decode_index(guid[len(self.guid_prefix) :])

    def correlation_id(self, index: int) -> str:
        """Three consecutive messages share a correlation id (a request and its follow-ups)."""
        return self.correlation_prefix + _encode_index(index // 3)

    def indexes_of_correlation(self, correlation_id: str) -> range:
        if not correlation_id.startswith(self.correlation_prefix):
            return range(0)
        group = _decode_index(correlation_id[len(self.correlation_prefix) :])
        return range(0) if group is None else range(group * 3, group * 3 + 3)

    # -- facts ----------------------------------------------------------------------------

    def facts(self, index: int) -> MessageFacts:
        value = self._hash(index)
        kinds = self.ensure_kinds(index + 1)
        kind = kinds[index]
        flow = self.catalog.iflows[kind >> 3]
        end = self.log_end_ms(index)
        duration = 15 + (value >> 40) % (MAX_DURATION_MS - 15)
        app_id = f"{4500000000 + index}" if flow.has_app_id else None
        return MessageFacts(
            index=index,
            guid=self.guid(index),
            correlation_id=self.correlation_id(index),
            status=STATUSES[kind & 7],
            iflow=flow,
            log_start_ms=end - duration,
            log_end_ms=end,
            application_message_id=app_id,
            transaction_id=f"{value:016x}{(value * 0x9E3779B97F4A7C15) & _MASK:016x}",
            hash=value,
        )

    def error_text(self, facts: MessageFacts) -> str:
        """Error text of a failed-ish message; empty for messages that ended well."""
        if facts.status not in ("FAILED", "RETRY", "ESCALATED"):
            return ""
        template = _ERRORS[(facts.hash >> 8) % len(_ERRORS)]
        url = f"https://{facts.iflow.receiver.lower()}.example/api"
        return template.format(url=url) + f"\nThe MPL ID for the failed message is : {facts.guid}\n"

    def custom_headers(self, facts: MessageFacts) -> list[tuple[str, str, str]]:
        """(Id, Name, Value) triples from the flow's business keys."""
        return [
            (str(facts.index * 8 + n), key, f"{(facts.hash >> (n * 8)) % 900000 + 100000}")
            for n, key in enumerate(facts.iflow.header_keys)
        ]

    def adapter_attributes(self, facts: MessageFacts) -> list[tuple[str, str, str, str, str]]:
        """(Id, AdapterId, AdapterMessageId, Name, Value) of the receiver adapter."""
        code = "500" if facts.status == "FAILED" else "200"
        return [
            (f"{facts.index}-1", facts.iflow.adapter, facts.guid, "ResponseCode", code),
            (
                f"{facts.index}-2",
                facts.iflow.adapter,
                facts.guid,
                "Endpoint",
                f"https://{facts.iflow.receiver.lower()}.example/api",
            ),
        ]

    def attachment_count(self, facts: MessageFacts) -> int:
        if facts.status == "FAILED":
            return 1 + (facts.hash >> 50) % 2
        return 1 if (facts.hash >> 50) % 10 == 0 else 0

    def attachment_id(self, facts: MessageFacts, number: int) -> str:
        return f"sap-it-res:msg:{facts.transaction_id[:9]}:{facts.guid}:{number}"

    def parse_attachment_id(self, attachment_id: str) -> tuple[int, int] | None:
        """(message index, attachment number) of an attachment id, or None."""
        parts = attachment_id.split(":")
        if len(parts) != 5 or parts[:2] != ["sap-it-res", "msg"] or not parts[4].isdigit():
            return None
        index = self.index_of_guid(parts[3])
        return None if index is None else (index, int(parts[4]))

    def attachment_body(self, facts: MessageFacts, number: int) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><payload message="{facts.guid}" part="{number}">'
            f"<status>{facts.status}</status><flow>{facts.iflow.id}</flow></payload>"
        ).encode()

    def store_entry_id(self, facts: MessageFacts) -> str | None:
        return f"sap-it-res:msg:{facts.guid}:Persist1" if facts.iflow.persists else None

    def parse_store_entry_id(self, entry_id: str) -> int | None:
        prefix, suffix = "sap-it-res:msg:", ":Persist1"
        if not (entry_id.startswith(prefix) and entry_id.endswith(suffix)):
            return None
        return self.index_of_guid(entry_id[len(prefix) : -len(suffix)])

    def store_payload(self, facts: MessageFacts) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><Order id="{facts.application_message_id or facts.index}">'
            f"<Sender>{facts.iflow.sender}</Sender><Receiver>{facts.iflow.receiver}</Receiver>"
            f"<Amount>{facts.hash % 100000 / 100:.2f}</Amount></Order>"
        ).encode()
