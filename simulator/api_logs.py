"""Message processing log resources: the list with paging, ``$count``, one log and its details."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Response

from simulator.late import hidden_predicate, without_late
from simulator.messages import MessageFacts
from simulator.mpl_query import PAGE_LIMIT, Selection, page, select
from simulator.odata_filter import FilterError
from simulator.render import atom_entry_document, atom_feed, entity_text, json_collection, json_entity, odata_date
from simulator.responses import JSON, XML, ApiError, raw_response
from simulator.tenant import SimTenant

__all__ = ["ApiCall", "entity_reply", "list_reply", "message_count", "message_detail", "message_list"]

_SAFE = "$',()"
_EXPANDABLE = ("CustomHeaderProperties", "AdapterAttributes", "Attachments", "MessageStoreEntries")


class ApiCall:
    """One API request after routing: tenant, parsed query, service-root URL, format and Accept header."""

    def __init__(self, tenant: SimTenant, query: dict[str, str], base: str, fmt: str, accept: str | None) -> None:
        self.tenant = tenant
        self.query = query
        self.base = base
        self.fmt = fmt
        self.accept = accept

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise ApiError(400, "Bad Request", f"{name} must be a non-negative integer, got {raw!r}")
        return int(raw)


def list_reply(call: ApiCall, name: str, entities: list[dict[str, Any]], count: int | None = None) -> Response[bytes]:
    """A collection reply in the negotiated format (entities already complete)."""
    if call.fmt == "json":
        body = json_collection([entity_text(e) for e in entities], count=count)
        return Response(content=body, media_type=JSON)
    return Response(content=atom_feed(name, call.base, entities, count=count), media_type=XML)


def entity_reply(call: ApiCall, collection: str, entity: dict[str, Any]) -> Response[bytes]:
    if call.fmt == "json":
        return Response(content=json_entity(entity), media_type=JSON)
    return Response(content=atom_entry_document(entity, collection), media_type=XML)


def message_list(call: ApiCall) -> Response[bytes]:
    """``MessageProcessingLogs`` with $filter/$orderby/$top/$skip/$skiptoken/$inlinecount/$select/$expand."""
    tenant, query = call.tenant, call.query
    top, skip = call.int_param("$top"), call.int_param("$skip") or 0
    try:
        selection = _selection(tenant, query.get("$filter"))
        token = query.get("$skiptoken")
        limit = PAGE_LIMIT if top is None else min(PAGE_LIMIT, top)
        result = page(selection, query.get("$orderby", "LogEnd"), token, 0 if token else skip, limit)
        total = selection.count() if query.get("$inlinecount") == "allpages" else None
    except FilterError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from exc
    next_link = None
    remaining = None if top is None else top - len(result.indexes)
    if result.next_token is not None and (remaining is None or remaining > 0):
        kept = {k: v for k, v in query.items() if k not in ("$skiptoken", "$skip", "$top")}
        if remaining is not None:
            kept["$top"] = str(remaining)
        kept["$skiptoken"] = result.next_token
        next_link = f"{call.base}/MessageProcessingLogs?{urlencode(kept, quote_via=quote, safe=_SAFE)}"
    facts = [tenant.series.facts(i) for i in result.indexes]
    shaped = "$select" in query or "$expand" in query
    if call.fmt == "json" and not shaped:
        body = json_collection([tenant.mpl_json(f, call.base) for f in facts], next_link=next_link, count=total)
        return Response(content=body, media_type=JSON)
    entities = [_shaped(call, f) for f in facts]
    if call.fmt == "json":
        body = json_collection([entity_text(e) for e in entities], next_link=next_link, count=total)
        return Response(content=body, media_type=JSON)
    return Response(
        content=atom_feed("MessageProcessingLogs", call.base, entities, next_link=next_link, count=total),
        media_type=XML,
    )


def _shaped(call: ApiCall, facts: MessageFacts) -> dict[str, Any]:
    entity = call.tenant.mpl_dict(facts, call.base)
    for nav in _split(call.query.get("$expand")):
        if nav not in _EXPANDABLE:
            raise ApiError(400, "Bad Request", f"$expand: {nav!r} cannot be expanded (use {', '.join(_EXPANDABLE)})")
        entity[nav] = {"results": detail_entities(call, facts, nav)}
    selected = _split(call.query.get("$select"))
    if selected:
        unknown = [name for name in selected if name not in entity]
        if unknown:
            raise ApiError(400, "Bad Request", f"$select: unknown property {unknown[0]!r}")
        entity = {k: v for k, v in entity.items() if k == "__metadata" or k in selected}
    return entity


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def message_count(call: ApiCall) -> Response[bytes]:
    try:
        selection = _selection(call.tenant, call.query.get("$filter"))
    except FilterError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from exc
    return raw_response(str(selection.count()).encode(), "text/plain", call.accept)


def _selection(tenant: SimTenant, filter_text: str | None) -> Selection:
    """The visible messages matching ``filter_text``, minus those a late-arrival fault still hides."""
    now_ms = int(time.time() * 1000)
    return without_late(select(tenant.series, tenant.series.visible_count(now_ms), filter_text),
                        tenant.faults.settings, now_ms)


def _still_hidden(tenant: SimTenant, index: int) -> bool:
    now_ms = int(time.time() * 1000)
    found = hidden_predicate(tenant.series, tenant.faults.settings, tenant.series.visible_count(now_ms), now_ms)
    return found is not None and found[1](index)


def find_message(call: ApiCall, guid: str) -> MessageFacts:
    series = call.tenant.series
    index = series.index_of_guid(guid)
    if index is None or index >= call.tenant.visible_count() or _still_hidden(call.tenant, index):
        raise ApiError(404, "Not Found", f"message processing log {guid!r} does not exist")
    return series.facts(index)


def message_detail(call: ApiCall, guid: str, part: str | None) -> Response[bytes]:
    """One log (``part`` None) or one of its navigation properties."""
    facts = find_message(call, guid)
    if part is None:
        return entity_reply(call, "MessageProcessingLogs", _shaped(call, facts))
    if part == "ErrorInformation/$value":
        text = call.tenant.series.error_text(facts)
        if not text:
            return raw_response(b"", "text/plain", call.accept)
        return raw_response(text.encode(), "text/plain", call.accept)
    if part == "ErrorInformation":
        if not call.tenant.series.error_text(facts):
            raise ApiError(404, "Not Found", f"message {guid!r} has no error information")
        entity = {
            "__metadata": _meta(
                call, f"MessageProcessingLogErrorInformations('{guid}')", "MessageProcessingLogErrorInformation"
            ),
            "MessageGuid": guid,
            "Type": "text/plain",
            "LastErrorModelStepId": f"CallActivity_{facts.hash % 20 + 1}",
        }
        return entity_reply(call, "MessageProcessingLogErrorInformations", entity)
    return list_reply(call, part, detail_entities(call, facts, part))


def detail_entities(call: ApiCall, facts: MessageFacts, nav: str) -> list[dict[str, Any]]:
    """The entities behind one navigation property of a message log."""
    builder = _DETAIL_BUILDERS.get(nav)
    if builder is None:
        raise ApiError(404, "Not Found", f"MessageProcessingLogs has no navigation property {nav!r}")
    return builder(call, facts)


def _custom_headers(call: ApiCall, facts: MessageFacts) -> list[dict[str, Any]]:
    found = []
    for hid, name, value in call.tenant.series.custom_headers(facts):
        path = f"MessageProcessingLogCustomHeaderProperties('{hid}')"
        meta = _meta(call, path, "MessageProcessingLogCustomHeaderProperty")
        found.append(
            {"__metadata": meta, "Id": hid, "Name": name, "Value": value, "Log": _deferred(call, f"{path}/Log")}
        )
    return found


def _adapter_attributes(call: ApiCall, facts: MessageFacts) -> list[dict[str, Any]]:
    found = []
    for aid, adapter, adapter_msg, name, value in call.tenant.series.adapter_attributes(facts):
        path = f"MessageProcessingLogAdapterAttributes('{aid}')"
        found.append(
            {
                "__metadata": _meta(call, path, "MessageProcessingLogAdapterAttribute"),
                "Id": aid,
                "AdapterId": adapter,
                "AdapterMessageId": adapter_msg,
                "Name": name,
                "Value": value,
                "MessageProcessingLog": _deferred(call, f"{path}/MessageProcessingLog"),
            }
        )
    return found


def _attachments(call: ApiCall, facts: MessageFacts) -> list[dict[str, Any]]:
    """Real tenants send ``PayloadSize`` as a string, the spec as an integer (see ``SimTenant``)."""
    series, found = call.tenant.series, []
    for number in range(1, series.attachment_count(facts) + 1):
        att_id = series.attachment_id(facts, number)
        size = len(series.attachment_body(facts, number))
        found.append(
            {
                "__metadata": _meta(
                    call, f"MessageProcessingLogAttachments('{att_id}')", "MessageProcessingLogAttachment"
                ),
                "Id": att_id,
                "MessageGuid": facts.guid,
                "TimeStamp": odata_date(facts.log_end_ms - number),
                "Name": "error_payload" if facts.status == "FAILED" else f"payload_{number}",
                "ContentType": "text/xml",
                "PayloadSize": str(size) if call.tenant.real_quirks else size,
            }
        )
    return found


def _store_entries(call: ApiCall, facts: MessageFacts) -> list[dict[str, Any]]:
    entry_id = call.tenant.series.store_entry_id(facts)
    if entry_id is None:
        return []
    path = f"MessageStoreEntries('{entry_id}')"
    return [
        {
            "__metadata": _meta(call, path, "MessageStoreEntry"),
            "Id": entry_id,
            "MessageGuid": facts.guid,
            "MessageStoreId": "Persist1",
            "TimeStamp": odata_date(facts.log_end_ms - 1),
            "HasAttachments": False,
            "Attachments": _deferred(call, f"{path}/Attachments"),
            "Properties": _deferred(call, f"{path}/Properties"),
        }
    ]


_DETAIL_BUILDERS: dict[str, Callable[[ApiCall, MessageFacts], list[dict[str, Any]]]] = {
    "CustomHeaderProperties": _custom_headers,
    "AdapterAttributes": _adapter_attributes,
    "Attachments": _attachments,
    "MessageStoreEntries": _store_entries,
}


def attachment_body(call: ApiCall, attachment_id: str) -> Response[bytes]:
    series = call.tenant.series
    parsed = series.parse_attachment_id(attachment_id)
    if parsed is None or parsed[0] >= call.tenant.visible_count():
        raise ApiError(404, "Not Found", f"attachment {attachment_id!r} does not exist")
    facts = series.facts(parsed[0])
    if not 1 <= parsed[1] <= series.attachment_count(facts):
        raise ApiError(404, "Not Found", f"attachment {attachment_id!r} does not exist")
    return raw_response(series.attachment_body(facts, parsed[1]), "text/xml", call.accept)


def store_entry(call: ApiCall, entry_id: str, value: bool) -> Response[bytes]:
    series = call.tenant.series
    index = series.parse_store_entry_id(entry_id)
    if index is None or index >= call.tenant.visible_count() or series.store_entry_id(series.facts(index)) is None:
        raise ApiError(404, "Not Found", f"message store entry {entry_id!r} does not exist")
    facts = series.facts(index)
    if value:
        return raw_response(series.store_payload(facts), "application/octet-stream", call.accept)
    return entity_reply(call, "MessageStoreEntries", detail_entities(call, facts, "MessageStoreEntries")[0])


def _meta(call: ApiCall, path: str, type_name: str) -> dict[str, str]:
    uri = f"{call.base}/{path}"
    return {"id": uri, "uri": uri, "type": f"com.sap.hci.api.{type_name}"}


def _deferred(call: ApiCall, path: str) -> dict[str, Any]:
    return {"__deferred": {"uri": f"{call.base}/{path}"}}
