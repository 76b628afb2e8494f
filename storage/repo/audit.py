"""The audit log: who did what, when, in which workspace. Settings, mappings and meetings
write their entry in the same transaction as the change (`add_audit_row`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog
from storage.repo.base import RepositoryBase
from storage.repo.rows import AuditEntry, audit_entry, dumps

__all__ = ["AuditQueries", "add_audit_row"]


def add_audit_row(
    session: AsyncSession,
    *,
    team_id: str,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, object],
    at: datetime,
) -> None:
    """Add an audit entry to the caller's transaction."""
    session.add(
        AuditLog(
            team_id=team_id,
            actor_slack_id=actor,
            action=action,
            target=target,
            detail=dumps(detail),
            created_at=at,
        )
    )


class AuditQueries(RepositoryBase):
    """Writing and reading a workspace's audit log."""

    async def audit(
        self,
        *,
        team_id: str,
        actor_slack_id: str,
        action: str,
        target: str,
        detail: Mapping[str, object],
    ) -> None:
        """Append an audit entry (detail must be JSON-serialisable; others become str)."""
        async with self._tx() as session:
            add_audit_row(
                session,
                team_id=team_id,
                actor=actor_slack_id,
                action=action,
                target=target,
                detail=detail,
                at=self._clock(),
            )

    async def audit_entries(self, *, team_id: str, limit: int) -> list[AuditEntry]:
        """The workspace's newest audit entries first."""
        async with self._tx() as session:
            query = (
                select(AuditLog)
                .where(AuditLog.team_id == team_id)
                .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
                .limit(limit)
            )
            return [audit_entry(r) for r in (await session.exec(query)).all()]
