"""Delivery recipient: a message the conversation could not take goes to each person by the
app's DM, one delivery row per person; the unique key gains the recipient ('' = the
conversation itself).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

OLD_KEY = "uq_delivery_meeting_occurrence_kind"
NEW_KEY = "uq_delivery_meeting_occurrence_kind_recipient"


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("recipient", sa.String(), nullable=False, server_default=""))
        batch.drop_constraint(OLD_KEY, type_="unique")
        batch.create_unique_constraint(
            NEW_KEY, ["team_id", "meeting_id", "occurrence", "kind", "recipient"]
        )


def downgrade() -> None:
    # Per-person rows cannot keep the narrower key: keep the conversation's rows only.
    op.execute("DELETE FROM delivery WHERE recipient <> ''")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.create_unique_constraint(OLD_KEY, ["team_id", "meeting_id", "occurrence", "kind"])
        batch.drop_column("recipient")
