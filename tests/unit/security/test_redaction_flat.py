"""The enqueue path's fast redaction (core.ledger.redaction.redact_flat) gives exactly what redact()
gives, and refuses (None) whatever is not a flat dict of short plain values."""

from __future__ import annotations

import random
import string
from typing import Any

from core.ledger.redaction import redact, redact_flat


def _value(rng: random.Random) -> Any:
    kind = rng.randrange(7)
    if kind == 0:
        return None
    if kind == 1:
        return rng.randrange(-10**6, 10**6)
    if kind == 2:
        return rng.random() * 1000
    if kind == 3:
        return rng.random() < 0.5
    if kind == 4:
        return "".join(rng.choices(string.printable, k=rng.randrange(0, 260)))
    if kind == 5:
        return rng.choice(["https://user:pw@hooks.example/x?sig=1", "s3://bucket", "mailto:a@b", "ftp://h/"])
    return rng.choice(["é" * 201, "plain", ""])


def test_same_result_as_redact_for_random_flat_dicts() -> None:
    rng = random.Random(16)
    names = ["tenant", "page", "client_secret", "api-key", "Authorization", "token_url", "name", "n"]
    checked = 0
    for _ in range(3000):
        kwargs = {rng.choice(names) + str(rng.randrange(3)): _value(rng) for _ in range(rng.randrange(0, 8))}
        flat = redact_flat(kwargs)
        if flat is not None:
            checked += 1
            assert flat == redact(kwargs), kwargs
    assert checked > 500, "the fast path covers the common case"


def test_refuses_what_is_not_flat_and_plain() -> None:
    long_text = "x" * 201
    for kwargs in ({"u": "https://h/path"}, {"s": long_text}, {"l": [1]}, {"d": {"a": 1}}, {1: "x"},
                   {f"k{i}": i for i in range(51)}, {"b": b"bytes"}):
        assert redact_flat(kwargs) is None, kwargs  # type: ignore[arg-type]
    assert redact_flat({"password": {"nested": 1}, "n": 2}) == {"password": "***", "n": 2}
