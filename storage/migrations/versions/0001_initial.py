"""Initial schema: workspace, user_mapping, meeting, delivery, audit_log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand and frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspace",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("team_name", sa.String(), nullable=True),
        sa.Column("app_id", sa.String(), nullable=True),
        sa.Column("app_key_encrypted", sa.Text(), nullable=True),
        sa.Column("corp_id", sa.String(), nullable=True),
        sa.Column("mapping_mode", sa.String(), nullable=False),
        sa.Column("reminder_minutes", sa.String(), nullable=True),
        sa.Column("reminder_channel_id", sa.String(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_workspace"),
        sa.CheckConstraint(
            "mapping_mode IN ('email', 'slack', 'explicit')", name="ck_workspace_mapping_mode"
        ),
    )
    op.create_table(
        "user_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("slack_user_id", sa.String(), nullable=False),
        sa.Column("third_party_id", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user_mapping"),
        sa.UniqueConstraint("team_id", "slack_user_id", name="uq_user_mapping_team_user"),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspace.team_id"],
            name="fk_user_mapping_workspace",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_user_mapping_team_third_party", "user_mapping", ["team_id", "third_party_id"]
    )
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("conference_id", sa.String(), nullable=False),
        sa.Column("organizer_slack_id", sa.String(), nullable=False),
        sa.Column("organizer_third_party_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("start_at", _utc(), nullable=False),
        sa.Column("end_at", _utc(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("tz_name", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("is_instant", sa.Boolean(), nullable=False),
        sa.Column("recurrence", sa.Text(), nullable=True),
        sa.Column("guest_join_url", sa.Text(), nullable=True),
        sa.Column("invitees", sa.Text(), nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=True),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("card_state", sa.String(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meeting"),
        sa.UniqueConstraint("team_id", "conference_id", name="uq_meeting_team_conference"),
        sa.UniqueConstraint("team_id", "id", name="uq_meeting_team_id"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspace.team_id"], name="fk_meeting_workspace", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "state IN ('scheduled', 'live', 'ended', 'cancelled')", name="ck_meeting_state"
        ),
    )
    op.create_index("ix_meeting_team_state_start", "meeting", ["team_id", "state", "start_at"])
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", _utc(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_until", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("slack_ts", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery"),
        sa.UniqueConstraint(
            "team_id",
            "meeting_id",
            "occurrence",
            "kind",
            name="uq_delivery_meeting_occurrence_kind",
        ),
        sa.ForeignKeyConstraint(
            ["team_id", "meeting_id"],
            ["meeting.team_id", "meeting.id"],
            name="fk_delivery_meeting",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("attempts >= 0", name="ck_delivery_attempts"),
    )
    op.create_index(
        "ix_delivery_due_pending",
        "delivery",
        ["due_at"],
        sqlite_where=sa.text("sent_at IS NULL AND withdrawn_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL AND withdrawn_at IS NULL"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("actor_slack_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_team_created", "audit_log", ["team_id", "created_at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("delivery")
    op.drop_table("meeting")
    op.drop_table("user_mapping")
    op.drop_table("workspace")
