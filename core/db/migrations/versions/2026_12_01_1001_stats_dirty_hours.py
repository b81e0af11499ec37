"""stats_dirty: hours to rebuild, marked by triggers on message_log in the writing transaction

Revision ID: 1001
Revises: 0501 (needs 0301's message_log)

Incremental stats used to follow ``max(stored_at)`` with a 2-minute overlap: a row committed later than
that, or a message whose LogEnd moved to another hour, left wrong cells until a full run. Now every
insert into ``message_log``, and every update that changes LogEnd, LogStart, status, iflow or package,
records the old and the new hour in ``stats_dirty`` inside the same transaction (a trigger, so every
writer is covered: the ingestion upsert, archive restore, manual fixes). ``stats_update_t`` consumes the
rows with DELETE … RETURNING. Deletes (retention, archive prune) do not mark: stats outlive raw logs.

Existing ``stats_watermark`` rows are removed, so each tenant's next pass is one full rebuild (rows
changed before this migration were never marked).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1001"
down_revision: str | Sequence[str] | None = "0501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0301"

_PG_HOUR = "floor(extract(epoch from coalesce({t}.log_end, {t}.log_start)) / 3600)::bigint"
# Transition tables have no statistics; without the SET above the planner nests loops over them
# (1,000 x 1,000 per page: the upsert of changed rows ran at a tenth of its speed).
_PG_MOVED = ("(o.log_end, o.log_start, o.status, o.iflow_id, o.package_id) IS DISTINCT FROM "
             "(n.log_end, n.log_start, n.status, n.iflow_id, n.package_id)")

PG_UP = [
    f"""
    CREATE FUNCTION stats_mark_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO stats_dirty (tenant_id, hour)
        SELECT DISTINCT n.tenant_id, {_PG_HOUR.format(t='n')} FROM new_rows n
        WHERE coalesce(n.log_end, n.log_start) IS NOT NULL;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION stats_mark_moved() RETURNS trigger LANGUAGE plpgsql
    SET enable_nestloop = off AS $$
    BEGIN
        INSERT INTO stats_dirty (tenant_id, hour)
        SELECT DISTINCT tenant_id, hour FROM (
            SELECT o.tenant_id, {_PG_HOUR.format(t='o')} AS hour
              FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_PG_MOVED}
            UNION ALL
            SELECT n.tenant_id, {_PG_HOUR.format(t='n')} AS hour
              FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_PG_MOVED}
        ) moved WHERE hour IS NOT NULL;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER stats_mark_inserted AFTER INSERT ON message_log REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_inserted()",
    "CREATE TRIGGER stats_mark_moved AFTER UPDATE ON message_log REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_moved()",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS stats_mark_moved ON message_log",
    "DROP TRIGGER IF EXISTS stats_mark_inserted ON message_log",
    "DROP FUNCTION IF EXISTS stats_mark_moved()",
    "DROP FUNCTION IF EXISTS stats_mark_inserted()",
]

# strftime('%s') is whole seconds since 1970, so integer division gives the UTC hour exactly.
_SQLITE_HOUR = "CAST(strftime('%s', coalesce({t}.log_end, {t}.log_start)) AS INTEGER) / 3600"
SQLITE_UP = [
    f"""
    CREATE TRIGGER stats_mark_inserted AFTER INSERT ON message_log
    WHEN coalesce(NEW.log_end, NEW.log_start) IS NOT NULL
    BEGIN
        INSERT INTO stats_dirty (tenant_id, hour) VALUES (NEW.tenant_id, {_SQLITE_HOUR.format(t='NEW')});
    END
    """,
    f"""
    CREATE TRIGGER stats_mark_moved AFTER UPDATE OF log_end, log_start, status, iflow_id, package_id
    ON message_log
    WHEN OLD.log_end IS NOT NEW.log_end OR OLD.log_start IS NOT NEW.log_start OR OLD.status IS NOT NEW.status
      OR OLD.iflow_id IS NOT NEW.iflow_id OR OLD.package_id IS NOT NEW.package_id
    BEGIN
        INSERT INTO stats_dirty (tenant_id, hour)
        SELECT OLD.tenant_id, {_SQLITE_HOUR.format(t='OLD')}
        WHERE coalesce(OLD.log_end, OLD.log_start) IS NOT NULL;
        INSERT INTO stats_dirty (tenant_id, hour)
        SELECT NEW.tenant_id, {_SQLITE_HOUR.format(t='NEW')}
        WHERE coalesce(NEW.log_end, NEW.log_start) IS NOT NULL;
    END
    """,
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS stats_mark_moved", "DROP TRIGGER IF EXISTS stats_mark_inserted"]


def upgrade() -> None:
    op.create_table(
        "stats_dirty",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_stats_dirty_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_dirty")),
    )
    with op.batch_alter_table("stats_dirty", schema=None) as batch_op:
        batch_op.create_index("ix_stats_dirty_tenant_id", ["tenant_id"], unique=False)
    for statement in PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)
    op.execute("DELETE FROM stats_watermark")


def downgrade() -> None:
    for statement in PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("stats_dirty", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_dirty_tenant_id")
    op.drop_table("stats_dirty")
