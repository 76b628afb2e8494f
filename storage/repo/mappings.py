"""User mappings: the explicit Slack user -> third-party user ID map an admin keeps for a
workspace (every change audited with the old and new value)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, delete, select

from storage.models import UserMapping
from storage.repo.audit import add_audit_row
from storage.repo.base import RepositoryBase, insert_for
from storage.repo.rows import MappingRow, mapping_row
from storage.repo.workspaces import ensure_workspace_row

__all__ = ["MappingQueries"]


class MappingQueries(RepositoryBase):
    """A workspace's explicit user mappings."""

    async def get_mapping(self, *, team_id: str, slack_user_id: str) -> str | None:
        """The third-party ID an admin mapped this user to, if any."""
        async with self._tx() as session:
            query = select(UserMapping.third_party_id).where(
                UserMapping.team_id == team_id, UserMapping.slack_user_id == slack_user_id
            )
            return (await session.exec(query)).one_or_none()

    async def set_mapping(
        self, *, team_id: str, slack_user_id: str, third_party_id: str, actor: str
    ) -> None:
        """Map (or re-map) a Slack user to a third-party ID; audited with old and new value."""
        async with self._tx() as session:
            await ensure_workspace_row(session, team_id, now=self._clock())
            old_query = select(UserMapping.third_party_id).where(
                UserMapping.team_id == team_id, UserMapping.slack_user_id == slack_user_id
            )
            old = (await session.exec(old_query)).one_or_none()
            now = self._clock()
            stmt = insert_for(session, UserMapping).values(
                team_id=team_id,
                slack_user_id=slack_user_id,
                third_party_id=third_party_id,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            await session.exec(
                stmt.on_conflict_do_update(
                    index_elements=["team_id", "slack_user_id"],
                    set_={"third_party_id": third_party_id, "updated_at": now},
                )
            )
            add_audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="mapping.set",
                target=slack_user_id,
                detail={"old": old, "new": third_party_id},
                at=self._clock(),
            )

    async def delete_mapping(self, *, team_id: str, slack_user_id: str, actor: str) -> bool:
        """Remove a user's mapping; False if there was none."""
        async with self._tx() as session:
            stmt = (
                delete(UserMapping)
                .where(
                    col(UserMapping.team_id) == team_id,
                    col(UserMapping.slack_user_id) == slack_user_id,
                )
                .returning(col(UserMapping.third_party_id))
            )
            old = (await session.exec(stmt)).scalar_one_or_none()
            if old is None:
                return False
            add_audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="mapping.delete",
                target=slack_user_id,
                detail={"old": old},
                at=self._clock(),
            )
            return True

    async def list_mappings(
        self, *, team_id: str, offset: int, limit: int
    ) -> tuple[list[MappingRow], int]:
        """One page of the workspace's mappings (by Slack user ID) and the total count."""
        async with self._tx() as session:
            total_query = select(func.count()).where(UserMapping.team_id == team_id)
            total = (await session.exec(total_query)).one()
            page_query = (
                select(UserMapping)
                .where(UserMapping.team_id == team_id)
                .order_by(col(UserMapping.slack_user_id))
                .offset(offset)
                .limit(limit)
            )
            rows = (await session.exec(page_query)).all()
            return [mapping_row(r) for r in rows], total
