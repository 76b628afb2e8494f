"""Meeting invitees as rows (one per person), for "the meetings I am invited to"; filled from
each meeting's `invitees` JSON. An index for the duplicate guard's look-up of one person's
recent meetings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    invitee = op.create_table(
        "meeting_invitee",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "meeting_id", "slack_user_id"),
        sa.ForeignKeyConstraint(
            ["team_id", "meeting_id"],
            ["meeting.team_id", "meeting.id"],
            name="fk_meeting_invitee_meeting",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_meeting_invitee_team_user",
        "meeting_invitee",
        ["team_id", "slack_user_id", "meeting_id"],
    )
    op.create_index(
        "ix_meeting_team_organizer_created",
        "meeting",
        ["team_id", "organizer_slack_id", "created_at"],
    )
    meetings = op.get_bind().execute(sa.text("SELECT team_id, id, invitees FROM meeting"))
    rows = [
        {"team_id": team_id, "meeting_id": meeting_id, "slack_user_id": user_id}
        for team_id, meeting_id, invitees in meetings
        for user_id in dict.fromkeys(json.loads(invitees or "[]"))
    ]
    if rows:
        op.bulk_insert(invitee, rows)


def downgrade() -> None:
    op.drop_index("ix_meeting_team_organizer_created", table_name="meeting")
    op.drop_index("ix_meeting_invitee_team_user", table_name="meeting_invitee")
    op.drop_table("meeting_invitee")
