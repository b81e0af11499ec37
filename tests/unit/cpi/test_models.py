"""Entity parsing against the example replies in SAP's own specs (``tests/fixtures/sap-cpi``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.cpi.models import (
    AdapterAttribute,
    DesigntimeArtifact,
    IntegrationPackage,
    MessageLog,
    MessageStoreEntry,
    MplAttachment,
    RuntimeArtifact,
)
from core.cpi.wire import MplWire, decode_mpl_page

# SAP's published specs, carried by the suite (source and terms in tests/fixtures/sap-cpi/SOURCE.md).
SPEC_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sap-cpi"


@cache
def spec(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPEC_DIR / f"{name}.json").read_text())
    return document


def example(spec_name: str, path: str) -> dict[str, Any]:
    """The documented JSON example reply of GET ``path`` (its ``d`` object)."""
    body: dict[str, Any] = spec(spec_name)["paths"][path]["get"]["responses"]["200"]["examples"]["application/json"]
    return body["d"]  # type: ignore[no-any-return]


def test_message_logs_of_the_spec_example_parse_both_ways_identically() -> None:
    entities = example("MessageProcessingLogs", "/MessageProcessingLogs")["results"]
    from_dicts = [MessageLog.from_entity(e) for e in entities]
    from_wire = [
        MessageLog.from_wire(w) for w in decode_mpl_page(json.dumps({"d": {"results": entities}}).encode()).d.results
    ]
    assert from_dicts == from_wire
    first, raw = from_dicts[0], entities[0]
    assert first.message_guid == raw["MessageGuid"]
    assert first.log_end is not None
    assert f"/Date({int(first.log_end.timestamp() * 1000)})/" == raw["LogEnd"]
    assert first.iflow_id == raw["IntegrationArtifact"]["Id"]
    assert first.package_id == raw["IntegrationArtifact"]["PackageId"]
    assert first.archiving_log_attachments is False  # the spec sends "false" as a string
    assert first.as_dict()["log_end"] == first.log_end.isoformat()


def test_real_reply_quirks_parse_like_the_spec_form() -> None:
    entity = dict(example("MessageProcessingLogs", "/MessageProcessingLogs")["results"][0])
    real = {**entity, "ArchivingLogAttachments": False, "LogEnd": entity["LogEnd"].replace(")/", "+0000)/")}
    body = json.dumps(
        {"d": {"results": [real], "__count": "1", "__next": "MessageProcessingLogs?$skiptoken=1"}}
    ).encode()
    page = decode_mpl_page(body).d
    assert MessageLog.from_wire(page.results[0]) == MessageLog.from_entity(entity)
    assert (page.count, page.next) == ("1", "MessageProcessingLogs?$skiptoken=1")


def test_integration_flow_name_stands_in_for_a_missing_artifact() -> None:
    log = MessageLog.from_entity({"MessageGuid": "A1", "Status": "FAILED", "IntegrationFlowName": "Old_Flow"})
    assert (log.iflow_id, log.log_end) == ("Old_Flow", None)


@pytest.mark.parametrize(
    "body", [b'{"d":{"results":[{"MessageGuid":', b'{"error":{}}', b"<html/>", b'{"d":{"results":[{"LogEnd":5.5}]}}']
)
def test_unreadable_pages_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode_mpl_page(body)


def test_message_without_guid_is_rejected() -> None:
    with pytest.raises(ValueError, match="MessageGuid"):
        MessageLog.from_wire(msgspec.convert({"Status": "FAILED"}, type=MplWire))


def test_detail_entities_of_the_spec_examples() -> None:
    mpl = "/MessageProcessingLogs('{MessageGuid}')"
    attachments = [
        MplAttachment.from_entity(e) for e in example("MessageProcessingLogs", f"{mpl}/Attachments")["results"]
    ]
    assert attachments
    assert all(a.id and isinstance(a.payload_size, int) for a in attachments)
    attributes = [
        AdapterAttribute.from_entity(e) for e in example("MessageProcessingLogs", f"{mpl}/AdapterAttributes")["results"]
    ]
    assert attributes
    assert all(a.adapter_id for a in attributes)
    entries = [
        MessageStoreEntry.from_entity(e) for e in example("MessageStore", f"{mpl}/MessageStoreEntries")["results"]
    ]
    assert entries
    assert all(e.timestamp is not None and e.has_attachments is not None for e in entries)


def test_content_entities_of_the_spec_examples() -> None:
    packages = [
        IntegrationPackage.from_entity(e) for e in example("IntegrationContent", "/IntegrationPackages")["results"]
    ]
    assert packages
    assert all(p.creation_date is not None for p in packages)
    flows_path = "/IntegrationPackages('{Id}')/IntegrationDesigntimeArtifacts"
    flows = [DesigntimeArtifact.from_entity(e) for e in example("IntegrationContent", flows_path)["results"]]
    assert flows
    assert all(f.version for f in flows)
    runtime = [
        RuntimeArtifact.from_entity(e) for e in example("IntegrationContent", "/IntegrationRuntimeArtifacts")["results"]
    ]
    assert {r.status for r in runtime} >= {"STARTED", "ERROR"}
    assert all(r.deployed_on is not None for r in runtime)
