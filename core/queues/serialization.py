"""The wire format of jobs and results in Redis: versioned JSON, never pickle.

arq stores ``arq:job:<id>`` and ``arq:result:<id>`` as ``serializer(dict)``; its default is pickle,
so anyone able to write a Redis key could make a worker (or the API) run code by unpickling it.
We plug JSON into arq's serializer hooks instead (``encode_job`` / ``decode_job`` are what
``ArqRedis(job_serializer=..., job_deserializer=...)`` and ``Job(..., _deserializer=...)`` take), so
arq's ``Job`` API keeps reading our keys while a planted payload is only ever data.

Rules of the format (version ``FORMAT_VERSION``, stored as ``"v"`` in every document):

- Job **arguments** must be JSON values: ``None``, ``bool``, ``int`` (64-bit), finite ``float``,
  ``str``, lists / tuples (read back as lists) and dicts with ``str`` keys, at most ``MAX_DEPTH``
  levels deep. Anything else (datetimes, sets, bytes, NaN, objects) is refused with
  :class:`PayloadError` naming the argument, before anything is written: callers pass dates as ISO
  strings, as every family already does.
- **Results** are converted rather than refused (a finished job must always be recordable): dates
  and datetimes become ISO strings, sets and tuples lists, anything else its ``str()``. A failed
  job's exception is stored as ``{"error_type", "message"}`` and read back as :class:`JobFailed`, so
  arq's ``Job.result()`` still raises.
- A payload that is not our JSON (pickle, garbage, another version) raises :class:`PayloadError`;
  nothing is ever evaluated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from core.errors import IntegraMonError

__all__ = [
    "ARQ_HOOKS",
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "JobFailed",
    "PayloadError",
    "check_arguments",
    "decode_any",
    "decode_job",
    "decode_result",
    "encode_job",
    "encode_result",
    "seal_arguments",
    "unseal_arguments",
]

FORMAT_VERSION = 1
MAX_DEPTH = 32  # nesting of job arguments; deeper documents are refused (and cannot blow the stack)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class PayloadError(IntegraMonError, ValueError):
    """A job payload or argument that the wire format refuses; the message names the culprit."""


class JobFailed(Exception):
    """A failed job's error as read back from Redis (the original exception is not reconstructed)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


def check_arguments(kwargs: Mapping[str, Any]) -> None:
    """Raise PayloadError (naming the argument) unless ``kwargs`` is a valid JSON argument dict."""
    if not isinstance(kwargs, Mapping):
        raise PayloadError("job arguments must be an object of name: value")
    for name, value in kwargs.items():
        if not isinstance(name, str):
            raise PayloadError(f"argument names must be strings, not {type(name).__name__}")
        _check_value(value, name, 1)


def _check_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise PayloadError(f"argument {where!r} is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise PayloadError(f"argument {where!r} is an integer outside the 64-bit range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PayloadError(f"argument {where!r} is not a finite number")
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_value(item, where, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PayloadError(f"argument {where!r} has a non-string key")
            _check_value(item, where, depth + 1)
        return
    raise PayloadError(f"argument {where!r} is a {type(value).__name__}, not a JSON value "
                       "(pass dates as ISO strings)")


def encode_job(data: dict[str, Any]) -> bytes:
    """arq ``job_serializer``: the job dict (``f``, ``a``, ``k``, ``t``, ``et``) as versioned JSON."""
    check_arguments(data.get("k") or {})
    if data.get("a"):
        raise PayloadError("positional job arguments are not supported; pass keyword arguments")
    return _encoder.encode({"v": FORMAT_VERSION, "f": data["f"], "a": [], "k": data.get("k") or {},
                            "t": data.get("t"), "et": data["et"]})


def encode_checked_job(function: str, kwargs: Mapping[str, Any], enqueue_time_ms: int) -> bytes:
    """:func:`encode_job` for a new job (first try) whose ``kwargs`` passed :func:`check_arguments`
    already (the enqueuer checks every request before any ledger row is written): the same bytes
    without walking the arguments a second time on the enqueue path."""
    return _encoder.encode({"v": FORMAT_VERSION, "f": function, "a": [], "k": kwargs, "t": None,
                            "et": enqueue_time_ms})


def decode_job(raw: bytes) -> dict[str, Any]:
    """arq ``job_deserializer`` (for jobs): refuses anything that is not our JSON job document."""
    doc = _decode(raw, "job")
    if not isinstance(doc.get("f"), str) or not isinstance(doc.get("k"), dict) \
            or not isinstance(doc.get("et"), int):
        raise PayloadError("job payload lacks function, arguments or enqueue time")
    doc["a"] = tuple(doc.get("a") or ())
    return doc


def encode_result(data: dict[str, Any]) -> bytes:
    """arq ``job_serializer`` for results: never fails on an odd result type (see the module doc)."""
    out: dict[str, Any] = {}
    for key, value in data.items():  # arq's envelope is plain scalars: only the rest is converted
        kind = type(value)
        if kind is str or kind is bool or value is None or (kind is int and _INT_MIN <= value <= _INT_MAX):
            out[str(key)] = value
        elif key not in ("a", "r"):
            out[str(key)] = _jsonable(value, 1)
    out["v"] = FORMAT_VERSION
    out["a"] = []
    result = data.get("r")
    if isinstance(result, BaseException):
        out["r"] = {"error_type": type(result).__name__, "message": str(result) or repr(result)}
        out["e"] = True
    else:
        out["r"] = _jsonable(result, 1)
    return _encoder.encode(out)


def decode_result(raw: bytes) -> dict[str, Any]:
    """arq ``job_deserializer`` for results: a failed job's error comes back as :class:`JobFailed`."""
    doc = _decode(raw, "result")
    if doc.get("e") and isinstance(doc.get("r"), dict):
        err = doc["r"]
        doc["r"] = JobFailed(str(err.get("error_type", "Error")), str(err.get("message", "")))
    doc["a"] = tuple(doc.get("a") or ())
    return doc


def decode_any(raw: bytes) -> dict[str, Any]:
    """Either a job or a result document (arq's ``Job`` uses one deserializer for both keys)."""
    doc = _decode(raw, "job")
    if "s" in doc:
        return decode_result(raw)
    return decode_job(raw)


def _decode(raw: bytes, what: str) -> dict[str, Any]:
    if not isinstance(raw, (bytes, bytearray, memoryview, str)):
        raise PayloadError(f"{what} payload is not bytes")
    data = bytes(raw) if not isinstance(raw, str) else raw.encode()
    if not data.startswith(b"{"):
        raise PayloadError(f"{what} payload is not JSON (format v{FORMAT_VERSION}); refused without reading it")
    try:
        doc = _decoder.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise PayloadError(f"{what} payload is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
        raise PayloadError(f"{what} payload has format version {doc.get('v') if isinstance(doc, dict) else None!r}, "
                           f"expected {FORMAT_VERSION}")
    return doc


def _jsonable(value: Any, depth: int) -> Any:
    """A JSON-encodable copy of a result (converted, never refused)."""
    if depth > MAX_DEPTH * 2:
        return str(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if _INT_MIN <= value <= _INT_MAX else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, depth + 1) for v in value]
    return str(value)


def seal_arguments(kwargs: Mapping[str, Any]) -> bytes:
    """The plaintext the ledger encrypts into ``args_sealed`` (JSON, like the wire)."""
    return _encoder.encode({"v": FORMAT_VERSION, "k": dict(kwargs)})


def unseal_arguments(plain: bytes) -> dict[str, Any]:
    """Inverse of :func:`seal_arguments`; PayloadError for anything else (old pickled seals included)."""
    doc = _decode(plain, "sealed arguments")
    if not isinstance(doc.get("k"), dict):
        raise PayloadError("sealed arguments lack their argument object")
    return dict(doc["k"])


# ``ArqRedis(pool, **ARQ_HOOKS)``: arq's own client reading and writing our format (tools, scripts).
ARQ_HOOKS: dict[str, Any] = {"job_serializer": encode_job, "job_deserializer": decode_any}
