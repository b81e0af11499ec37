"""Serialising entities as CPI does: OData v2 JSON (``{"d": ...}``) or Atom XML.

Entities are plain dicts (``__metadata``, properties, navigation as ``{"__deferred": {"uri": ...}}``).
Message logs, the hot path, also have a pre-templated JSON form (see ``simulator.mpl_render``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "atom_entry_document",
    "atom_feed",
    "entity_text",
    "error_json",
    "error_xml",
    "json_collection",
    "json_entity",
    "odata_date",
]

_NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"'
)
_RELATED = "http://schemas.microsoft.com/ado/2007/08/dataservices/related/"
_SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"


def odata_date(ms: int) -> str:
    return f"/Date({ms})/"


def json_collection(entities: Sequence[str], *, next_link: str | None = None, count: int | None = None) -> bytes:
    """``{"d": {"results": [...], "__count": "N", "__next": "..."}}`` from already-encoded entities."""
    tail = ""
    if count is not None:
        tail += f',"__count":"{count}"'
    if next_link is not None:
        tail += f',"__next":{json.dumps(next_link)}'
    return ('{"d":{"results":[' + ",".join(entities) + "]" + tail + "}}").encode()


def json_entity(entity: Mapping[str, Any]) -> bytes:
    return json.dumps({"d": entity}, separators=(",", ":")).encode()


def entity_text(entity: Mapping[str, Any]) -> str:
    """One entity as compact JSON text (to join into a collection)."""
    return json.dumps(entity, separators=(",", ":"))


def error_json(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": {"lang": "en", "value": message}}}).encode()


def error_xml(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<code>{escape(code)}</code><message xml:lang="en">{escape(message)}</message></error>'
    ).encode()


def atom_feed(
    name: str,
    base: str,
    entities: Sequence[Mapping[str, Any]],
    *,
    next_link: str | None = None,
    count: int | None = None,
) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?><feed xml:base={quoteattr(base + "/")} {_NS}>',
        f'<id>{escape(base)}/{escape(name)}</id><title type="text">{escape(name)}</title>',
        f"<updated>{_now_iso()}</updated><author><name/></author>",
        f'<link href={quoteattr(name)} rel="self" title={quoteattr(name)}/>',
    ]
    if count is not None:
        parts.append(f"<m:count>{count}</m:count>")
    parts.extend(_atom_entry(entity, name) for entity in entities)
    if next_link is not None:
        parts.append(f'<link rel="next" href={quoteattr(next_link)}/>')
    parts.append("</feed>")
    return "".join(parts).encode()


def atom_entry_document(entity: Mapping[str, Any], collection: str) -> bytes:
    entry = _atom_entry(entity, collection)
    return ('<?xml version="1.0" encoding="utf-8"?>' + entry.replace("<entry>", f"<entry {_NS}>", 1)).encode()


def _atom_entry(entity: Mapping[str, Any], collection: str) -> str:
    meta = entity.get("__metadata", {})
    uri = str(meta.get("uri", ""))
    type_name = str(meta.get("type", ""))
    links = []
    props = []
    for key, value in entity.items():
        if key == "__metadata":
            continue
        if isinstance(value, Mapping) and "__deferred" in value:
            href = str(value["__deferred"]["uri"])
            links.append(
                f"<link href={quoteattr(href)} rel={quoteattr(_RELATED + key)} title={quoteattr(key)} "
                'type="application/atom+xml;type=feed"/>'
            )
        elif isinstance(value, Mapping) and "results" in value:  # expanded navigation: an inline feed
            inner = "".join(_atom_entry(item, key) for item in value["results"])
            links.append(
                f"<link href={quoteattr(uri + '/' + key)} rel={quoteattr(_RELATED + key)} title={quoteattr(key)} "
                f'type="application/atom+xml;type=feed"><m:inline><feed>{inner}</feed></m:inline></link>'
            )
        else:
            props.append(_property(key, value))
    return (
        f'<entry><id>{escape(uri)}</id><title type="text">{escape(collection)}</title>'
        f"<updated>{_now_iso()}</updated><author><name/></author>"
        f'<link href={quoteattr(uri)} rel="edit" title={quoteattr(type_name.rsplit(".", 1)[-1])}/>'
        f'<category term={quoteattr(type_name)} scheme="{_SCHEME}"/>'
        + "".join(links)
        + '<content type="application/xml"><m:properties>'
        + "".join(props)
        + "</m:properties></content></entry>"
    )


def _property(key: str, value: Any) -> str:
    if value is None:
        return f'<d:{key} m:null="true"/>'
    if isinstance(value, bool):
        return f'<d:{key} m:type="Edm.Boolean">{"true" if value else "false"}</d:{key}>'
    if isinstance(value, int):
        return f'<d:{key} m:type="Edm.Int64">{value}</d:{key}>'
    if isinstance(value, Mapping):
        type_name = str(value.get("__metadata", {}).get("type", ""))
        inner = "".join(_property(k, v) for k, v in value.items() if k != "__metadata")
        return f"<d:{key} m:type={quoteattr(type_name)}>{inner}</d:{key}>"
    if isinstance(value, list):
        return f"<d:{key}>" + "".join(_property("element", item) for item in value) + f"</d:{key}>"
    text = str(value)
    if text.startswith("/Date(") and text.endswith(")/"):
        ms = int(text[6:-2].split("+")[0])
        iso = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return f'<d:{key} m:type="Edm.DateTime">{iso}</d:{key}>'
    return f"<d:{key}>{escape(text)}</d:{key}>"


def _now_iso() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
