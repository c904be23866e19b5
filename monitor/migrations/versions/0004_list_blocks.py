"""list blocks: each page's lists of dated items, and the list a link or date belongs to

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of monitor.db's JSON type: a migration must not change when the models do.
JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("page", sa.Column("lists", JSON_TYPE, nullable=True))
    op.add_column("page_date", sa.Column("block", sa.String(16), nullable=True))
    op.add_column("page_date", sa.Column("item", sa.Text(), nullable=True))
    op.add_column("link", sa.Column("block", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link") as batch:
        batch.drop_column("block")
    with op.batch_alter_table("page_date") as batch:
        batch.drop_column("item")
        batch.drop_column("block")
    with op.batch_alter_table("page") as batch:
        batch.drop_column("lists")
