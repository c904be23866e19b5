"""crawl events: traps cut, bounds reached, robots refusals, blocking hosts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of monitor.db's id type: a migration must not change when the models do.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crawl_event",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id", "site_id"], ["run_site.run_id", "run_site.site_id"],
                                name=op.f("fk_crawl_event_run_id_site_id_run_site"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_event")),
    )
    op.create_index(op.f("ix_crawl_event_run_id_site_id"), "crawl_event", ["run_id", "site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_event_run_id_site_id"), table_name="crawl_event")
    op.drop_table("crawl_event")
