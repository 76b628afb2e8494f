"""Idempotency: seen_key, the request identifiers already acted on (Slack trigger IDs, action
timestamps, view IDs, vendor push nonces), shared by every replica until they expire.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "seen_key",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_seen_key_expires", "seen_key", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_key_expires", table_name="seen_key")
    op.drop_table("seen_key")
