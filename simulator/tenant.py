"""Everything one simulated tenant holds: credentials, content catalog, message series, tokens, faults."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.catalog import TenantCatalog, build_catalog
from simulator.config import SimulatorConfig, TenantCredentials, tenant_credentials
from simulator.faults import FaultState
from simulator.messages import MessageFacts, MessageSeries

__all__ = ["SimTenant", "build_tenants"]

_FIELD = re.compile(r"(?<!\{)\{(\w+)\}(?!\})")
_NAVS = (
    "CustomHeaderProperties",
    "MessageStoreEntries",
    "ErrorInformation",
    "AdapterAttributes",
    "Attachments",
    "Runs",
)


@dataclass
class SimTenant:
    """A tenant. ``real_quirks`` (odd-numbered tenants) makes replies look like captured real ones:
    archiving flags as booleans and ``PayloadSize`` as a string; the others follow SAP's spec
    (flags as ``"false"`` strings, sizes as integers), so clients meet both dialects."""

    name: str
    number: int
    credentials: TenantCredentials
    catalog: TenantCatalog
    series: MessageSeries
    real_quirks: bool
    token_ttl_s: float
    faults: FaultState = field(default_factory=FaultState)
    tokens: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=lambda: {"api_requests": 0, "token_requests": 0})
    # API requests per wall-clock second (Unix second -> count), the last few minutes only: lets tests
    # check that clients stay under a tenant's rate limit.
    requests_by_second: dict[int, int] = field(default_factory=dict)
    _flow_fragments: dict[int, str] = field(default_factory=dict)
    _templates: dict[tuple[str, int], tuple[list[str], list[str]]] = field(default_factory=dict)

    # -- auth ---------------------------------------------------------------------------

    def issue_token(self) -> tuple[str, float]:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_ttl_s
        self.stats["token_requests"] += 1
        self._drop_expired()
        return token, self.token_ttl_s

    def count_api_request(self) -> None:
        self.stats["api_requests"] += 1
        second = int(time.time())
        self.requests_by_second[second] = self.requests_by_second.get(second, 0) + 1
        if len(self.requests_by_second) > 300:
            for old in sorted(self.requests_by_second)[:-300]:
                del self.requests_by_second[old]

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and time.monotonic() < expires

    def expire_tokens(self) -> int:
        count = len(self.tokens)
        self.tokens.clear()
        return count

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for token in [t for t, exp in self.tokens.items() if exp <= now]:
            del self.tokens[token]

    # -- message log entities ------------------------------------------------------------

    def visible_count(self) -> int:
        return self.series.visible_count(int(time.time() * 1000))

    def mpl_json(self, facts: MessageFacts, base: str) -> str:
        """One MessageProcessingLog as JSON text from a cached per-flow template (the paging hot path)."""
        compiled = self._templates.get((base, facts.iflow.index))
        if compiled is None:
            compiled = _compile(self._mpl_template(facts, base))
            self._templates[(base, facts.iflow.index)] = compiled
        literals, keys = compiled
        app_id = "null" if facts.application_message_id is None else f'"{facts.application_message_id}"'
        values = {
            "g": facts.guid,
            "c": facts.correlation_id,
            "a": app_id,
            "s": str(facts.log_start_ms),
            "e": str(facts.log_end_ms),
            "st": facts.status,
            "tx": facts.transaction_id,
        }
        out: list[str] = [""] * (len(literals) + len(keys))
        out[0::2] = literals
        out[1::2] = [values[key] for key in keys]
        return "".join(out)

    def _mpl_template(self, facts: MessageFacts, base: str) -> str:
        """``str.format`` template of a log of one flow; every brace of the JSON itself is doubled."""
        uri = f"{base}/MessageProcessingLogs('{{g}}')"
        flag = "false" if self.real_quirks else '"false"'
        navs = ",".join(f'"{nav}":{{{{"__deferred":{{{{"uri":"{uri}/{nav}"}}}}}}}}' for nav in _NAVS)
        link = self._web_link(base)
        flow = self._flow_fragment(facts).replace("{", "{{").replace("}", "}}")
        return (
            f'{{{{"__metadata":{{{{"id":"{uri}","uri":"{uri}","type":"com.sap.hci.api.MessageProcessingLog"}}}},'
            '"MessageGuid":"{g}","CorrelationId":"{c}",'
            '"ApplicationMessageId":{a},"ApplicationMessageType":null,'
            '"LogStart":"/Date({s})/","LogEnd":"/Date({e})/",'
            f"{flow},"
            f'"Status":"{{st}}","AlternateWebLink":"{link}",'
            '"LogLevel":"INFO","CustomStatus":"{st}","ArchivingStatus":"NOT_RELEVANT",'
            f'"ArchivingSenderChannelMessages":{flag},"ArchivingReceiverChannelMessages":{flag},'
            f'"ArchivingLogAttachments":{flag},"ArchivingPersistedMessages":{flag},'
            f'"TransactionId":"{{tx}}","PreviousComponentName":"CPI_{self.name}",'
            f'"LocalComponentName":"CPI_{self.name}","OriginComponentName":"CPI_{self.name}",{navs}}}}}'
        )

    def mpl_dict(self, facts: MessageFacts, base: str) -> dict[str, Any]:
        """The same entity as a dict (XML, ``$select``, ``$expand`` and single-entity replies)."""
        entity: dict[str, Any] = json.loads(self.mpl_json(facts, base))
        return entity

    def _flow_fragment(self, facts: MessageFacts) -> str:
        flow = facts.iflow
        fragment = self._flow_fragments.get(flow.index)
        if fragment is None:
            artifact = {
                "__metadata": {"type": "com.sap.hci.api.IntegrationArtifact"},
                "Id": flow.id,
                "Name": flow.name,
                "Type": "INTEGRATION_FLOW",
                "PackageId": flow.package_id,
                "PackageName": flow.package_name,
            }
            artifact_json = json.dumps(artifact, separators=(",", ":"))
            fragment = (
                f'"Sender":{json.dumps(flow.sender)},"Receiver":{json.dumps(flow.receiver)},'
                f'"IntegrationFlowName":{json.dumps(flow.id)},"IntegrationArtifact":{artifact_json}'
            )
            self._flow_fragments[flow.index] = fragment
        return fragment

    def _web_link(self, base: str) -> str:
        root = base.split("/api/v1")[0]
        return f"{root}/shell/monitoring/MessageDetails/%7B%22messageGuid%22%3A%22{{g}}%22%7D"


def _compile(template: str) -> tuple[list[str], list[str]]:
    """Split a ``str.format`` template into literal pieces and the field names between them."""
    parts = _FIELD.split(template)
    literals = [part.replace("{{", "{").replace("}}", "}") for part in parts[0::2]]
    return literals, parts[1::2]


def build_tenants(config: SimulatorConfig) -> dict[str, SimTenant]:
    tenants: dict[str, SimTenant] = {}
    for number in range(1, config.tenants + 1):
        name = f"tenant{number}"
        catalog = build_catalog(config.seed, name, config.start_ms)
        tenants[name] = SimTenant(
            name=name,
            number=number,
            credentials=tenant_credentials(config, name),
            catalog=catalog,
            series=MessageSeries(config, name, catalog),
            real_quirks=number % 2 == 1,
            token_ttl_s=config.token_ttl_s,
            faults=FaultState(hang_s=config.hang_s),
        )
    return tenants
