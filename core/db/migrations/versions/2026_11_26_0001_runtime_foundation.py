"""Runtime foundation: ledger, tenants, schedules, polling config, tuning, metric settings, message logs, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_settings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("last_dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_settings")),
        sa.UniqueConstraint("metric", name=op.f("uq_metric_settings_metric")),
    )
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("routing_key", sa.String(length=128), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
    )
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_event_sent_at_id", ["sent_at", "id"], unique=False)

    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("api_url", sa.String(length=512), nullable=False),
        sa.Column("token_url", sa.String(length=512), nullable=True),
        sa.Column("auth_type", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("rate_limit_per_s", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("name", name=op.f("uq_tenant_name")),
    )
    op.create_table(
        "worker_job_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("arq_job_id", sa.String(length=128), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("function", sa.String(length=128), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column(
            "args_redacted",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.Column("error_type", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "result_summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "reconcile_meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("replay_of_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["replay_of_id"],
            ["worker_job_run.id"],
            name=op.f("fk_worker_job_run_replay_of_id_worker_job_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_job_run")),
        sa.UniqueConstraint("arq_job_id", name=op.f("uq_worker_job_run_arq_job_id")),
    )
    with op.batch_alter_table("worker_job_run", schema=None) as batch_op:
        batch_op.create_index("ix_worker_job_run_enqueued_at_id", ["enqueued_at", "id"], unique=False)
        batch_op.create_index("ix_worker_job_run_function_enqueued_at", ["function", "enqueued_at"], unique=False)
        batch_op.create_index("ix_worker_job_run_queue_enqueued_at", ["queue", "enqueued_at"], unique=False)
        batch_op.create_index("ix_worker_job_run_status_enqueued_at", ["status", "enqueued_at"], unique=False)
        batch_op.create_index("ix_worker_job_run_tenant_id_enqueued_at", ["tenant_id", "enqueued_at"], unique=False)
        batch_op.create_index(
            "uq_worker_job_run_active_dedup",
            ["dedup_key"],
            unique=True,
            postgresql_where=sa.text("status IN ('queued', 'running', 'retrying')"),
            sqlite_where=sa.text("status IN ('queued', 'running', 'retrying')"),
        )

    op.create_table(
        "worker_tuning_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active_profile", sa.String(length=32), nullable=False),
        sa.Column(
            "overrides", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_tuning_settings")),
    )
    op.create_table(
        "config_ext",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_config_ext_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_ext")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_config_ext_tenant_id_key")),
    )
    op.create_table(
        "ingest_watermark",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("position", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "cursor", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_ingest_watermark_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_watermark")),
        sa.UniqueConstraint("tenant_id", "kind", name=op.f("uq_ingest_watermark_tenant_id_kind")),
    )
    op.create_table(
        "job_config",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("function", sa.String(length=128), nullable=False),
        sa.Column(
            "args", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(length=128), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_job_config_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_config")),
        sa.UniqueConstraint("name", name=op.f("uq_job_config_name")),
    )
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.create_index("ix_job_config_enabled_next_run_at", ["enabled", "next_run_at"], unique=False)

    op.create_table(
        "message_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("message_guid", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("application_message_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("custom_status", sa.String(length=64), nullable=True),
        sa.Column("log_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("log_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("iflow_id", sa.String(length=255), nullable=True),
        sa.Column("iflow_name", sa.String(length=255), nullable=True),
        sa.Column("package_id", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.Column("receiver", sa.String(length=255), nullable=True),
        sa.Column("log_level", sa.String(length=16), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("details_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "extra", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_message_log_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_log")),
        sa.UniqueConstraint("tenant_id", "message_guid", name=op.f("uq_message_log_tenant_id_message_guid")),
    )
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_log_tenant_id_iflow_id_log_end", ["tenant_id", "iflow_id", "log_end"], unique=False
        )
        batch_op.create_index("ix_message_log_tenant_id_log_end", ["tenant_id", "log_end"], unique=False)
        batch_op.create_index(
            "ix_message_log_tenant_id_status_log_end", ["tenant_id", "status", "log_end"], unique=False
        )

    op.create_table(
        "worker_job_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("arq_job_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["arq_job_id"],
            ["worker_job_run.arq_job_id"],
            name=op.f("fk_worker_job_attempt_arq_job_id_worker_job_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_job_attempt")),
    )
    with op.batch_alter_table("worker_job_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_job_attempt_arq_job_id"), ["arq_job_id"], unique=False)

    op.create_table(
        "job_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job_config_id", sa.Integer(), nullable=False),
        sa.Column("worker_job_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_config_id"], ["job_config.id"], name=op.f("fk_job_run_job_config_id_job_config"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["worker_job_run_id"],
            ["worker_job_run.id"],
            name=op.f("fk_job_run_worker_job_run_id_worker_job_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_run_job_config_id"), ["job_config_id"], unique=False)

    tuning = sa.table(
        "worker_tuning_settings",
        sa.column("id", sa.Integer()),
        sa.column("active_profile", sa.String()),
        sa.column("overrides", sa.JSON()),
        sa.column("updated_by", sa.String()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        tuning,
        [
            {
                "id": 1,
                "active_profile": "balanced",
                "overrides": {},
                "updated_by": "migration",
                "updated_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_run_job_config_id"))

    op.drop_table("job_run")
    with op.batch_alter_table("worker_job_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_job_attempt_arq_job_id"))

    op.drop_table("worker_job_attempt")
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_tenant_id_status_log_end")
        batch_op.drop_index("ix_message_log_tenant_id_log_end")
        batch_op.drop_index("ix_message_log_tenant_id_iflow_id_log_end")

    op.drop_table("message_log")
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.drop_index("ix_job_config_enabled_next_run_at")

    op.drop_table("job_config")
    op.drop_table("ingest_watermark")
    op.drop_table("config_ext")
    op.drop_table("worker_tuning_settings")
    with op.batch_alter_table("worker_job_run", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_worker_job_run_active_dedup",
            postgresql_where=sa.text("status IN ('queued', 'running', 'retrying')"),
            sqlite_where=sa.text("status IN ('queued', 'running', 'retrying')"),
        )
        batch_op.drop_index("ix_worker_job_run_tenant_id_enqueued_at")
        batch_op.drop_index("ix_worker_job_run_status_enqueued_at")
        batch_op.drop_index("ix_worker_job_run_queue_enqueued_at")
        batch_op.drop_index("ix_worker_job_run_function_enqueued_at")
        batch_op.drop_index("ix_worker_job_run_enqueued_at_id")

    op.drop_table("worker_job_run")
    op.drop_table("tenant")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_event_sent_at_id")

    op.drop_table("outbox_event")
    op.drop_table("metric_settings")
