"""Answering ``MessageProcessingLogs`` queries by index arithmetic (see ``simulator.messages``).

A ``$filter`` becomes a :class:`Selection`: an index range from the LogEnd conditions (LogEnd never
decreases with the index, so the range is exact), a set of allowed kind bytes from the Status and
flow conditions (scanned with a compiled regex over the kind ``bytearray``), and, only for the rest
(LogStart, ApplicationMessageId ...), a per-message predicate. Paging with ``$orderby=LogEnd`` (asc or
desc) uses message indexes as skiptokens, stable while new messages arrive; other orders sort.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from simulator.messages import MAX_DURATION_MS, STATUSES, MessageFacts, MessageSeries
from simulator.odata_filter import And, Compare, Expr, FilterError, Or, conjuncts, parse_filter

__all__ = ["MPL_FIELDS", "MPL_ORDERS", "PAGE_LIMIT", "Page", "Selection", "page", "select"]

PAGE_LIMIT = 1000
MPL_FIELDS = frozenset(
    {
        "LogStart",
        "LogEnd",
        "Status",
        "CustomStatus",
        "IntegrationArtifact/Id",
        "IntegrationFlowName",
        "MessageGuid",
        "CorrelationId",
        "ApplicationMessageId",
        "LogLevel",
    }
)
_CODE_FIELDS = frozenset({"Status", "CustomStatus", "IntegrationArtifact/Id", "IntegrationFlowName"})
MPL_ORDERS = ("LogEnd", "LogEnd desc", "LogStart", "LogStart desc", "Status,LogEnd desc", "ApplicationMessageId")
_BACK_CHUNK = 8192
_ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


@dataclass(slots=True)
class Selection:
    series: MessageSeries
    kinds: bytearray
    lo: int
    hi: int
    pattern: re.Pattern[bytes] | None = None
    empty: bool = False
    predicate: Callable[[int], bool] | None = None
    explicit: list[int] | None = None

    def ascending(self, start: int = 0) -> Iterator[int]:
        begin = max(self.lo, start)
        if self.empty or begin >= self.hi:
            return
        if self.explicit is not None:
            yield from (i for i in sorted(self.explicit) if begin <= i < self.hi and self._keep(i))
        elif self.pattern is not None:
            for match in self.pattern.finditer(self.kinds, begin, self.hi):
                if self.predicate is None or self.predicate(match.start()):
                    yield match.start()
        else:
            yield from (i for i in range(begin, self.hi) if self.predicate is None or self.predicate(i))

    def descending(self, end: int | None = None) -> Iterator[int]:
        stop = self.hi if end is None else min(self.hi, end)
        if self.empty or stop <= self.lo:
            return
        if self.explicit is not None:
            yield from (i for i in sorted(self.explicit, reverse=True) if self.lo <= i < stop and self._keep(i))
            return
        while stop > self.lo:
            begin = max(self.lo, stop - _BACK_CHUNK)
            if self.pattern is not None:
                chunk = [m.start() for m in self.pattern.finditer(self.kinds, begin, stop)]
            else:
                chunk = list(range(begin, stop))
            yield from (i for i in reversed(chunk) if self.predicate is None or self.predicate(i))
            stop = begin

    def count(self) -> int:
        if self.empty or self.hi <= self.lo:
            return 0
        if self.explicit is not None or self.predicate is not None:
            return sum(1 for _ in self.ascending())
        if self.pattern is not None:
            return len(self.pattern.findall(self.kinds, self.lo, self.hi))
        return self.hi - self.lo

    def _keep(self, index: int) -> bool:
        if self.pattern is not None and not self.pattern.fullmatch(self.kinds, index, index + 1):
            return False
        return self.predicate is None or self.predicate(index)


def select(series: MessageSeries, count: int, filter_text: str | None) -> Selection:
    """The messages among the first ``count`` that match ``filter_text`` (raises FilterError)."""
    kinds = series.ensure_kinds(count)
    selection = Selection(series, kinds, 0, count)
    if not filter_text:
        return selection
    rest: list[Expr] = []
    for part in conjuncts(parse_filter(filter_text, MPL_FIELDS)):
        if not _narrow(selection, part):
            rest.append(part)
    code_parts = [p for p in rest if _fields(p) <= _CODE_FIELDS]
    other = [p for p in rest if not _fields(p) <= _CODE_FIELDS]
    if code_parts:
        _apply_codes(selection, And(tuple(code_parts)))
    if other:
        expr = And(tuple(other))
        selection.predicate = lambda i: _evaluate(expr, series.facts(i))
    return selection


def _narrow(selection: Selection, part: Expr) -> bool:
    """Fold a top-level condition into the index range / explicit list; True when fully handled."""
    if not isinstance(part, Compare):
        return False
    series, count = selection.series, selection.hi
    if part.field in ("LogEnd", "LogStart"):
        if not isinstance(part.value, int) or isinstance(part.value, bool):
            raise FilterError(f"$filter: {part.field} must be compared with a datetime'...' literal")
        if part.op == "ne":
            return False
        value = part.value
        if part.field == "LogStart":
            # LogEnd - MAX_DURATION <= LogStart <= LogEnd: narrow loosely, check exactly later
            if part.op in ("gt", "ge", "eq"):
                selection.lo = max(selection.lo, series.first_index_at_or_after(value, count))
            if part.op in ("lt", "le", "eq"):
                selection.hi = min(selection.hi, series.first_index_after(value + MAX_DURATION_MS, count))
            return False
        if part.op in ("gt", "eq", "ge"):
            after = part.op == "gt"
            first = series.first_index_after(value, count) if after else series.first_index_at_or_after(value, count)
            selection.lo = max(selection.lo, first)
        if part.op in ("lt", "le", "eq"):
            before = part.op == "lt"
            last = series.first_index_at_or_after(value, count) if before else series.first_index_after(value, count)
            selection.hi = min(selection.hi, last)
        return True
    if part.op == "eq" and part.field in ("MessageGuid", "CorrelationId") and isinstance(part.value, str):
        if part.field == "MessageGuid":
            index = series.index_of_guid(part.value)
            found = [] if index is None else [index]
        else:
            found = list(series.indexes_of_correlation(part.value))
        selection.explicit = found if selection.explicit is None else [i for i in selection.explicit if i in found]
        return True
    return False


def _apply_codes(selection: Selection, expr: Expr) -> None:
    flows = selection.series.catalog.iflows
    allowed = [
        code
        for code in range(len(flows) * 8)
        if code & 7 < len(STATUSES) and _evaluate_code(expr, STATUSES[code & 7], flows[code >> 3].id)
    ]
    if not allowed:
        selection.empty = True
    elif len(allowed) < len(flows) * 8:
        selection.pattern = re.compile(b"[" + b"".join(re.escape(bytes([c])) for c in allowed) + b"]")


def _fields(expr: Expr) -> frozenset[str]:
    if isinstance(expr, Compare):
        return frozenset({expr.field})
    return frozenset().union(*(_fields(p) for p in expr.parts))


def _compare(left: object, op: str, right: object) -> bool:
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if left is None or right is None:
        return False
    try:
        return bool(_ORDERING[op](left, right))
    except TypeError as exc:
        raise FilterError(f"$filter: cannot compare {left!r} with {right!r}") from exc


def _evaluate_code(expr: Expr, status: str, flow_id: str) -> bool:
    if isinstance(expr, And):
        return all(_evaluate_code(p, status, flow_id) for p in expr.parts)
    if isinstance(expr, Or):
        return any(_evaluate_code(p, status, flow_id) for p in expr.parts)
    value = status if expr.field in ("Status", "CustomStatus") else flow_id
    return _compare(value, expr.op, expr.value)


def _field_value(field: str, facts: MessageFacts) -> object:
    values: dict[str, object] = {
        "LogStart": facts.log_start_ms,
        "LogEnd": facts.log_end_ms,
        "Status": facts.status,
        "CustomStatus": facts.status,
        "IntegrationArtifact/Id": facts.iflow.id,
        "IntegrationFlowName": facts.iflow.id,
        "MessageGuid": facts.guid,
        "CorrelationId": facts.correlation_id,
        "ApplicationMessageId": facts.application_message_id,
        "LogLevel": "INFO",
    }
    return values[field]


def _evaluate(expr: Expr, facts: MessageFacts) -> bool:
    if isinstance(expr, And):
        return all(_evaluate(p, facts) for p in expr.parts)
    if isinstance(expr, Or):
        return any(_evaluate(p, facts) for p in expr.parts)
    return _compare(_field_value(expr.field, facts), expr.op, expr.value)


@dataclass(frozen=True, slots=True)
class Page:
    indexes: list[int]
    next_token: str | None


def page(selection: Selection, order: str, skiptoken: str | None, skip: int, limit: int) -> Page:
    """Up to ``limit`` (<= 1000) indexes in ``order`` after ``skiptoken`` and ``skip``; the next token if more."""
    if order not in MPL_ORDERS:
        raise FilterError(f"$orderby must be one of: {', '.join(MPL_ORDERS)}")
    position = _token_value(skiptoken)
    if order == "LogEnd":
        source = selection.ascending(position if position is not None else 0)
        return _take(source, skip, limit, lambda i: f"{i}")
    if order == "LogEnd desc":
        source = selection.descending(position)
        return _take(source, skip, limit, lambda i: f"{i + 1}")
    ordered = sorted(selection.ascending(), key=_sort_key(order, selection.series))
    offset = (position or 0) + skip
    chunk = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)
    return Page(chunk, f"{offset + limit}" if more else None)


def _take(source: Iterator[int], skip: int, limit: int, token_of: Callable[[int], str]) -> Page:
    for _ in range(skip):
        if next(source, None) is None:
            return Page([], None)
    taken: list[int] = []
    for index in source:
        if len(taken) == limit:
            return Page(taken, token_of(index))
        taken.append(index)
    return Page(taken, None)


def _token_value(skiptoken: str | None) -> int | None:
    if skiptoken is None:
        return None
    if not skiptoken.isdigit():
        raise FilterError(f"$skiptoken {skiptoken!r} is not one this server issued")
    return int(skiptoken)


def _sort_key(order: str, series: MessageSeries) -> Callable[[int], tuple[object, ...]]:
    def key(index: int) -> tuple[object, ...]:
        facts = series.facts(index)
        if order.startswith("LogStart"):
            value = facts.log_start_ms if order == "LogStart" else -facts.log_start_ms
            return (value, facts.guid)
        if order == "Status,LogEnd desc":
            return (facts.status, -facts.log_end_ms, facts.guid)
        return (facts.application_message_id or "", facts.guid)

    return key
