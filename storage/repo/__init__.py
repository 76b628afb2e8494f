"""All database queries, behind one `Repository`: one transaction per call, every query scoped
by workspace (team_id). Results are frozen dataclasses, never live ORM rows, so nothing
lazy-loads later on the event loop and encrypted columns never leave this package.

The queries live by kind of data: `workspaces`, `mappings`, `meetings`, `deliveries` (the
delivery queue and its exactly-once contract), `audit`, `idempotency`; `rows` holds the values
in and out. `Repository` is all of them in one object.

The only queries that span workspaces are the scheduler's maintenance queries:
`claim_due` (the delivery job queue) and the `all_workspaces_*` methods. They exist because
the scheduler serves every workspace from one loop; each result carries its team_id and the
scheduler must use it for any follow-up call.
"""

from __future__ import annotations

from storage.repo.audit import AuditQueries
from storage.repo.deliveries import LAST_ERROR_MAX, DeliveryQueries
from storage.repo.idempotency import IdempotencyQueries
from storage.repo.mappings import MappingQueries
from storage.repo.meetings import MAINTENANCE_BATCH, WATCH_LEAD, MeetingQueries
from storage.repo.rows import (
    REMINDER_PREFIX,
    AppSecrets,
    AuditEntry,
    ClaimedDelivery,
    DeliveryRow,
    MappingRow,
    MeetingRow,
    NewDelivery,
    NewMeeting,
    SentPost,
    WorkspaceRow,
)
from storage.repo.workspaces import WorkspaceQueries

__all__ = [
    "LAST_ERROR_MAX",
    "MAINTENANCE_BATCH",
    "REMINDER_PREFIX",
    "WATCH_LEAD",
    "AppSecrets",
    "AuditEntry",
    "ClaimedDelivery",
    "DeliveryRow",
    "MappingRow",
    "MeetingRow",
    "NewDelivery",
    "NewMeeting",
    "Repository",
    "SentPost",
    "WorkspaceRow",
]


class Repository(
    WorkspaceQueries,
    MappingQueries,
    MeetingQueries,
    DeliveryQueries,
    AuditQueries,
    IdempotencyQueries,
):
    """Keyword-only async queries; each call is one transaction. See the package docstring.

    `Repository(sessions, secret_box, *, clock=...)`. The per-kind classes are mixins over
    `RepositoryBase` (storage.repo.base): they share its state and its one transaction helper,
    and each defines only the queries of its kind.
    """

    def __repr__(self) -> str:
        return "Repository()"
