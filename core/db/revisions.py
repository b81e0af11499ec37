"""The migration graph read straight from the migration files, without importing Alembic.

A starting service only needs to know whether the database's ``alembic_version`` rows cover every
head of this code. Importing Alembic for that (its runtime, every dialect's DDL module, Mako) cost a
worker about half a second of start-up; the ids a migration file declares (``revision``,
``down_revision``, ``depends_on``) are literals on lines of their own, so this module reads those
lines and evaluates only their right-hand sides. ``tests/unit/test_revisions.py`` checks that the
heads and ancestries computed here are exactly Alembic's for every revision, so the two cannot drift.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

__all__ = ["RevisionGraph", "code_heads", "graph", "missing_revisions"]

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"
_FIELD = re.compile(r"^(revision|down_revision|depends_on)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RevisionGraph:
    """Each revision's ``down_revision`` parents and ``depends_on`` dependencies."""

    parents: Mapping[str, tuple[str, ...]]
    depends: Mapping[str, tuple[str, ...]]

    def heads(self) -> frozenset[str]:
        """Revisions no other revision names as its ``down_revision`` (Alembic's heads: a revision
        reached only through ``depends_on`` is still a head and is applied by ``upgrade heads``)."""
        below = {parent for parents in self.parents.values() for parent in parents}
        return frozenset(rev for rev in self.parents if rev not in below)

    def ancestry(self, revision: str) -> set[str]:
        """``revision`` and every revision it stands on (parents and dependencies, transitively)."""
        seen: set[str] = set()
        todo = [revision]
        while todo:
            rev = todo.pop()
            if rev in seen:
                continue
            seen.add(rev)
            todo += [*self.parents.get(rev, ()), *self.depends.get(rev, ())]
        return seen


def _ids(value: object, where: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"migration {where.name}: revision ids must be literal strings")


def parse(folder: Path) -> RevisionGraph:
    """Read every migration file in ``folder`` (``revision``/``down_revision``/``depends_on`` literals)."""
    parents: dict[str, tuple[str, ...]] = {}
    depends: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.py")):
        fields: dict[str, object] = {}
        for name, source in _FIELD.findall(path.read_text(encoding="utf-8")):
            if name not in fields:  # the module-level declaration comes first
                try:
                    fields[name] = ast.literal_eval(source)
                except (ValueError, SyntaxError) as exc:
                    raise ConfigError(f"migration {path.name}: {name} is not a literal") from exc
        revision = fields.get("revision")
        if not isinstance(revision, str):
            raise ConfigError(f"migration {path.name} declares no revision id")
        parents[revision] = _ids(fields.get("down_revision"), path)
        depends[revision] = _ids(fields.get("depends_on"), path)
    return RevisionGraph(parents, depends)


@functools.cache
def graph() -> RevisionGraph:
    """This code's migration graph (read once per process)."""
    return parse(VERSIONS_DIR)


def code_heads() -> frozenset[str]:
    """The migration heads this code was written against."""
    return graph().heads()


def missing_revisions(db_heads: frozenset[str]) -> set[str]:
    """Heads of this code that the database (at ``db_heads``) has not applied yet.

    A database revision this code does not know is newer code's migration (a rolling deploy after
    ``migrate`` ran, which applies every head): then nothing is missing, the schema only grows compatibly.
    """
    known = graph()
    if any(head not in known.parents for head in db_heads):
        return set()
    applied: set[str] = set()
    for head in db_heads:
        applied |= known.ancestry(head)
    return {head for head in known.heads() if head not in applied}
