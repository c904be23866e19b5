"""compact crawl snapshots: a page's links and dates in one value, distinct links per site

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A page row gains `extract` (monitor.store.pagecodec) and the run's distinct links of a
site go to `link_form`; the `link` and `page_date` tables, a row per link and per
date (~20 KB a crawled page), are dropped with their rows. Only a run that is
collecting reads its snapshot, and no run collects across an upgrade (it holds
the run lock): results, evidence, probes and history are untouched, and the
pages of older runs stay, without their links and dates.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of monitor.db's id type: a migration must not change when the models do.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _run_site_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id", "site_id"], ["run_site.run_id", "run_site.site_id"],
                                   name=op.f(f"fk_{table}_run_id_site_id_run_site"), ondelete="CASCADE")


def upgrade() -> None:
    op.add_column("page", sa.Column("extract", sa.LargeBinary(), nullable=True))
    op.create_table(
        "link_form",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.String(16), nullable=False),
        sa.Column("block", sa.String(16), nullable=True),
        _run_site_fk("link_form"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_form")),
    )
    op.create_index(op.f("ix_link_form_run_id_site_id_n"), "link_form", ["run_id", "site_id", "n"])
    op.drop_index(op.f("ix_link_source_page_id"), table_name="link")
    op.drop_index(op.f("ix_link_run_id_site_id"), table_name="link")
    op.drop_table("link")
    op.drop_index(op.f("ix_page_date_page_id"), table_name="page_date")
    op.drop_table("page_date")


def downgrade() -> None:
    op.create_table(
        "page_date",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("page_id", BIG_ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("block", sa.String(16), nullable=True),
        sa.Column("item", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"], name=op.f("fk_page_date_page_id_page"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_date")),
    )
    op.create_index(op.f("ix_page_date_page_id"), "page_date", ["page_id"])
    op.create_table(
        "link",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source_page_id", BIG_ID, nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.String(16), nullable=False),
        sa.Column("block", sa.String(16), nullable=True),
        _run_site_fk("link"),
        sa.ForeignKeyConstraint(["source_page_id"], ["page.id"], name=op.f("fk_link_source_page_id_page"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link")),
    )
    op.create_index(op.f("ix_link_run_id_site_id"), "link", ["run_id", "site_id"])
    op.create_index(op.f("ix_link_source_page_id"), "link", ["source_page_id"])
    op.drop_index(op.f("ix_link_form_run_id_site_id_n"), table_name="link_form")
    op.drop_table("link_form")
    with op.batch_alter_table("page") as batch:
        batch.drop_column("extract")
