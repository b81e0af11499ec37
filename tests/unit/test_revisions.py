"""The migration graph read from the files (core.db.revisions, used by every service's start-up schema
check) is exactly Alembic's: same heads, same ancestry and the same verdict for every database state."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from core.db import revisions
from core.db.revisions import graph, missing_revisions, parse
from core.errors import ConfigError


def _alembic() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(revisions.VERSIONS_DIR.parent))
    return ScriptDirectory.from_config(cfg)


def test_heads_are_alembics_heads() -> None:
    assert revisions.code_heads() == frozenset(_alembic().get_heads())


def test_every_revision_and_its_ancestry_are_alembics() -> None:
    script = _alembic()
    assert set(graph().parents) == {rev.revision for rev in script.walk_revisions()}
    for rev in graph().parents:
        assert graph().ancestry(rev) == {r.revision for r in script.iterate_revisions(rev, "base")}, rev


def _alembic_missing(script: ScriptDirectory, db_heads: frozenset[str]) -> set[str]:
    applied: set[str] = set()
    for head in db_heads:
        applied.update(r.revision for r in script.iterate_revisions(head, "base"))
    return set(script.get_heads()) - applied


def test_missing_revisions_agree_with_alembic_for_every_pair_of_database_heads() -> None:
    script = _alembic()
    ids = sorted(graph().parents)
    states = [frozenset(), *(frozenset(c) for n in (1, 2) for c in itertools.combinations(ids, n))]
    for db_heads in states:
        assert missing_revisions(db_heads) == _alembic_missing(script, db_heads), db_heads
    assert missing_revisions(frozenset(script.get_heads())) == set()


def test_a_revision_from_newer_code_means_nothing_is_missing() -> None:
    assert missing_revisions(frozenset({"0001", "9999_newer"})) == set()


def test_tuple_down_revisions_and_depends_on_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision: str = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision: str | None = "a"\n')
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = ("a",)\ndepends_on = ["b"]\n')
    (tmp_path / "d.py").write_text("revision = 'd'\ndown_revision = ('b', 'c')\n")
    parsed = parse(tmp_path)
    assert parsed.heads() == frozenset({"d"})
    assert parsed.ancestry("c") == {"a", "b", "c"}


def test_a_computed_revision_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text('revision = make_id()\ndown_revision = None\n')
    with pytest.raises(ConfigError, match="not a literal"):
        parse(tmp_path)
