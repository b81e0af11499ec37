"""The hand-off message (core.queues.handoff): six header lines, then the payload as it is."""

from __future__ import annotations

import pytest

from core.queues.handoff import parse_handoff


def test_the_payload_keeps_its_own_newlines() -> None:
    handed = parse_handoff(b'7\nperiodic_run\nabc\n1733000000123\n2\n1\n{"a":\n"b"}')
    assert (handed.generation, handed.queue, handed.job_id, handed.score) == (7, "periodic_run", "abc", 1733000000123)
    assert (handed.attempt, handed.aborted, handed.payload) == (2, True, b'{"a":\n"b"}')


def test_a_score_written_as_a_float_is_read() -> None:
    assert parse_handoff("1\nq\nj\n1.7330000001e+12\n1\n0\n{}").score == 1733000000100


@pytest.mark.parametrize("message", [b"", b"1\nq\nj\n5\n1\n0", b"x\nq\nj\n5\n1\n0\n{}"])
def test_anything_else_is_refused(message: bytes) -> None:
    with pytest.raises(ValueError):
        parse_handoff(message)
