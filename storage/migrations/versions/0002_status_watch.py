"""Live status and delivery facts: meeting.watch_from, meeting.occurrences, delivery.payload,
delivery.posting_at.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01

`watch_from` says from when the status poll asks the vendor about a meeting (15 minutes
before its start, or its earliest reminder); existing rows get start - 15 min. `occurrences`
lists every start of a recurring meeting (JSON); `payload` holds the facts a "started" or
"ended" message reports (JSON), fixed when the change was seen; `posting_at` marks a post
whose outcome is unknown (a retry must look for it in Slack before posting again).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

WATCH_LEAD = timedelta(minutes=15)


def upgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(sa.Column("watch_from", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("occurrences", sa.Text(), nullable=True))
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("posting_at", sa.DateTime(timezone=True), nullable=True))
    meeting = sa.table(
        "meeting",
        sa.column("id", sa.Integer()),
        sa.column("start_at", sa.DateTime(timezone=True)),
        sa.column("watch_from", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    # Row by row in Python: date arithmetic is spelled differently on every backend.
    for row_id, start in connection.execute(sa.select(meeting.c.id, meeting.c.start_at)).all():
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        watch = start - WATCH_LEAD
        connection.execute(
            meeting.update()
            .where(meeting.c.id == row_id)
            .values(watch_from=watch.replace(tzinfo=None) if sqlite else watch)
        )
    # The status poll's query: open meetings whose watch has begun.
    op.create_index(
        "ix_meeting_watch_open",
        "meeting",
        ["watch_from"],
        sqlite_where=sa.text("state IN ('scheduled', 'live')"),
        postgresql_where=sa.text("state IN ('scheduled', 'live')"),
    )


def downgrade() -> None:
    op.drop_index("ix_meeting_watch_open", table_name="meeting")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("posting_at")
        batch.drop_column("payload")
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("occurrences")
        batch.drop_column("watch_from")
