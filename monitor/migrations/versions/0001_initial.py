"""initial schema: runs, sites, crawl snapshot, DNS answers, probes, check results

Revision ID: 0001
Revises:
Create Date: 2026-11-29

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of monitor.db's column types: a migration must not change when the models do.
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", BIG_ID, nullable=False)


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f(f"fk_{table}_run_id_run"), ondelete="CASCADE")


def _run_site_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id", "site_id"], ["run_site.run_id", "run_site.site_id"],
                                   name=op.f(f"fk_{table}_run_id_site_id_run_site"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "run",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("config_digest", sa.String(64), nullable=False),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", JSON, nullable=False),
        sa.CheckConstraint("kind IN ('scheduled', 'manual', 'adhoc', 'demo')", name=op.f("ck_run_kind")),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed', 'interrupted')", name=op.f("ck_run_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
    )
    op.create_index(op.f("ix_run_status_started_at"), "run", ["status", "started_at"])

    op.create_table(
        "site",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )

    op.create_table(
        "run_site",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("pages_crawled", sa.Integer(), nullable=False),
        _run_fk("run_site"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_run_site_site_id_site")),
        sa.PrimaryKeyConstraint("run_id", "site_id", name=op.f("pk_run_site")),
    )
    op.create_index(op.f("ix_run_site_site_id"), "run_site", ["site_id"])

    op.create_table(
        "page",
        _id(),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("redirect_chain", JSON, nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("fetch_kind", sa.String(32), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("fetched_at", TIMESTAMP, nullable=True),
        _run_site_fk("page"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
        sa.UniqueConstraint("run_id", "site_id", "url", name=op.f("uq_page_run_id_site_id_url")),
    )

    op.create_table(
        "page_date",
        _id(),
        sa.Column("page_id", BIG_ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"], name=op.f("fk_page_date_page_id_page"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_date")),
    )
    op.create_index(op.f("ix_page_date_page_id"), "page_date", ["page_id"])

    op.create_table(
        "link",
        _id(),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source_page_id", BIG_ID, nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.String(16), nullable=False),
        _run_site_fk("link"),
        sa.ForeignKeyConstraint(["source_page_id"], ["page.id"], name=op.f("fk_link_source_page_id_page"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link")),
    )
    op.create_index(op.f("ix_link_run_id_site_id"), "link", ["run_id", "site_id"])
    op.create_index(op.f("ix_link_source_page_id"), "link", ["source_page_id"])

    op.create_table(
        "link_target",
        _id(),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=True),
        _run_fk("link_target"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_target")),
        sa.UniqueConstraint("run_id", "url", name=op.f("uq_link_target_run_id_url")),
    )

    op.create_table(
        "dns_answer",
        _id(),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("rtype", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("addresses", JSON, nullable=False),
        sa.Column("cname_chain", JSON, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        _run_fk("dns_answer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_answer")),
        sa.UniqueConstraint("run_id", "name", "rtype", name=op.f("uq_dns_answer_run_id_name_rtype")),
    )

    op.create_table(
        "probe",
        _id(),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("detail", JSON, nullable=False),
        _run_fk("probe"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_probe_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe")),
    )
    op.create_index(op.f("ix_probe_site_id_kind_at"), "probe", ["site_id", "kind", "at"])
    op.create_index(op.f("ix_probe_run_id_site_id"), "probe", ["run_id", "site_id"])

    op.create_table(
        "check_result",
        _id(),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("message_key", sa.String(128), nullable=False),
        sa.Column("message_params", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        _run_site_fk("check_result"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_result")),
        sa.UniqueConstraint("run_id", "site_id", "check_id", name=op.f("uq_check_result_run_id_site_id_check_id")),
    )


def downgrade() -> None:
    for table in ("check_result", "probe", "dns_answer", "link_target", "link", "page_date", "page",
                  "run_site", "site", "run"):
        op.drop_table(table)
