"""A small parser for the OData v2 ``$filter`` expressions CPI accepts on message processing logs.

Grammar: ``or`` of ``and`` of comparisons or parenthesised expressions; comparison =
``Field op literal`` with op in eq/ne/gt/ge/lt/le; literals are ``'text'`` (quotes doubled inside),
``datetime'YYYY-MM-DDTHH:MM:SS[.fff]'`` (UTC, no zone suffix: CPI rejects one), integers, true/false,
null. Unknown fields and bad syntax raise :class:`FilterError` naming the problem (HTTP 400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["And", "Compare", "Expr", "FilterError", "Or", "conjuncts", "parse_filter"]

_TOKEN = re.compile(
    r"\s*(?:(?P<lparen>\()|(?P<rparen>\))|datetime'(?P<dt>[^']*)'|'(?P<str>(?:[^']|'')*)'"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_/]*))"
)
_OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FilterError(ValueError):
    """The ``$filter`` cannot be parsed or uses a field we do not support."""


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: str
    value: object  # str, int (epoch ms for datetime literals), bool or None


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Expr, ...]


Expr = Compare | And | Or


def parse_filter(text: str, fields: frozenset[str]) -> Expr:
    """Parse ``text``; only ``fields`` may be compared."""
    tokens = _tokenize(text)
    parser = _Parser(tokens, fields)
    expr = parser.parse_or()
    if parser.pos != len(tokens):
        raise FilterError(f"$filter: unexpected {tokens[parser.pos][1]!r} at the end")
    return expr


def conjuncts(expr: Expr) -> list[Expr]:
    """The top-level ``and`` parts of an expression (the expression itself when it is no ``and``)."""
    return list(expr.parts) if isinstance(expr, And) else [expr]


def _tokenize(text: str) -> list[tuple[str, object]]:
    tokens: list[tuple[str, object]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError(f"$filter: cannot read {text[pos : pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        raw = match.group(kind) if kind else ""
        if kind == "dt":
            tokens.append(("lit", _datetime_ms(raw)))
        elif kind == "str":
            tokens.append(("lit", raw.replace("''", "'")))
        elif kind == "num":
            tokens.append(("lit", int(float(raw))))
        elif kind == "word":
            tokens.append(_word(raw))
        else:
            tokens.append((kind or "", raw))
    return tokens


def _word(raw: str) -> tuple[str, object]:
    lowered = raw.lower()
    if lowered in ("and", "or"):
        return (lowered, raw)
    if lowered in _OPS:
        return ("op", lowered)
    if lowered in ("true", "false"):
        return ("lit", lowered == "true")
    if lowered == "null":
        return ("lit", None)
    return ("field", raw)


def _datetime_ms(raw: str) -> int:
    if raw.endswith("Z") or re.search(r"[+-]\d{2}:?\d{2}$", raw):
        raise FilterError(f"$filter: datetime'{raw}' must be UTC without a zone suffix")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise FilterError(f"$filter: datetime'{raw}' is not YYYY-MM-DDTHH:MM:SS[.fff]") from exc
    return int((value.replace(tzinfo=UTC) - _EPOCH).total_seconds() * 1000)


class _Parser:
    def __init__(self, tokens: list[tuple[str, object]], fields: frozenset[str]) -> None:
        self.tokens = tokens
        self.fields = fields
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def _take(self, kind: str) -> object:
        if self._peek() != kind:
            found = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "end of filter"
            raise FilterError(f"$filter: expected {kind}, found {found!r}")
        value = self.tokens[self.pos][1]
        self.pos += 1
        return value

    def parse_or(self) -> Expr:
        parts = [self.parse_and()]
        while self._peek() == "or":
            self.pos += 1
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Expr:
        parts = [self.parse_atom()]
        while self._peek() == "and":
            self.pos += 1
            parts.append(self.parse_atom())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_atom(self) -> Expr:
        if self._peek() == "lparen":
            self.pos += 1
            inner = self.parse_or()
            self._take("rparen")
            return inner
        field = str(self._take("field"))
        if field not in self.fields:
            known = ", ".join(sorted(self.fields))
            raise FilterError(f"$filter: field {field!r} is not filterable (use one of {known})")
        op = str(self._take("op"))
        value = self._take("lit")
        return Compare(field, op, value)
