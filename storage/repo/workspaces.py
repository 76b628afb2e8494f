"""Workspaces: their settings (mapping mode, reminders), their own meeting-service app (the
app key encrypted at rest; decrypted only here) and the start-up check that every stored key
still opens with the configured secret keys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Workspace
from storage.repo.audit import add_audit_row
from storage.repo.base import RepositoryBase, insert_for
from storage.repo.rows import AppSecrets, WorkspaceRow, encode_minutes, workspace_row
from storage.vocabulary import MappingMode

__all__ = ["WorkspaceQueries", "ensure_workspace_row"]


async def ensure_workspace_row(
    session: AsyncSession, team_id: str, team_name: str | None = None, *, now: datetime
) -> None:
    """Create the workspace with default settings if it is new; `team_name` updates the name."""
    stmt = insert_for(session, Workspace).values(
        team_id=team_id,
        team_name=team_name,
        mapping_mode=MappingMode.EMAIL.value,
        created_at=now,
        updated_at=now,
    )
    if team_name is None:
        await session.exec(stmt.on_conflict_do_nothing(index_elements=["team_id"]))
    else:
        await session.exec(
            stmt.on_conflict_do_update(index_elements=["team_id"], set_={"team_name": team_name})
        )


class WorkspaceQueries(RepositoryBase):
    """A workspace's settings and app credentials."""

    async def _locked_workspace(self, session: AsyncSession, team_id: str) -> Workspace:
        await ensure_workspace_row(session, team_id, now=self._clock())
        query = select(Workspace).where(Workspace.team_id == team_id).with_for_update()
        return (await session.exec(query)).one()

    async def _change_workspace(
        self, *, team_id: str, actor: str, action: str, changes: Mapping[str, Any]
    ) -> None:
        async with self._tx() as session:
            row = await self._locked_workspace(session, team_id)
            old = {name: getattr(row, name) for name in changes}
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = self._clock()
            add_audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action=action,
                target=team_id,
                detail={"old": old, "new": dict(changes)},
                at=self._clock(),
            )

    async def get_workspace(self, *, team_id: str) -> WorkspaceRow | None:
        """The workspace's settings, or None if it was never seen."""
        async with self._tx() as session:
            row = await session.get(Workspace, team_id)
            return None if row is None else workspace_row(row)

    async def ensure_workspace(self, *, team_id: str, team_name: str | None = None) -> WorkspaceRow:
        """The workspace, created with default settings if new; `team_name` updates the name."""
        async with self._tx() as session:
            await ensure_workspace_row(session, team_id, team_name, now=self._clock())
            row = (await session.exec(select(Workspace).where(Workspace.team_id == team_id))).one()
            return workspace_row(row)

    async def set_app_credentials(
        self, *, team_id: str, app_id: str, app_key: str, corp_id: str | None, actor: str
    ) -> None:
        """Store the workspace's own meeting-service app; the key is encrypted at rest."""
        encrypted = self._box.encrypt(app_key)
        async with self._tx() as session:
            row = await self._locked_workspace(session, team_id)
            old = {"app_id": row.app_id, "corp_id": row.corp_id}
            row.app_id, row.app_key_encrypted, row.corp_id = app_id, encrypted, corp_id
            row.updated_at = self._clock()
            add_audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="workspace.credentials",
                target=team_id,
                detail={
                    "old": old,
                    "new": {"app_id": app_id, "corp_id": corp_id},
                    "app_key": "replaced",
                },
                at=self._clock(),
            )

    async def get_app_credentials(self, *, team_id: str) -> AppSecrets | None:
        """The workspace's own app, decrypted; None if it has none (use the global default).

        Raises storage.secrets.SecretDecryptError if no configured key opens the stored key.
        """
        async with self._tx() as session:
            row = await session.get(Workspace, team_id)
        if row is None or row.app_id is None or row.app_key_encrypted is None:
            return None
        return AppSecrets(
            app_id=row.app_id,
            app_key=self._box.decrypt(row.app_key_encrypted),
            corp_id=row.corp_id,
        )

    async def app_key_readable(self, *, team_id: str) -> bool:
        """Whether the workspace's stored app key (if any) opens with the configured secret
        keys; the key itself stays in here."""
        async with self._tx() as session:
            row = await session.get(Workspace, team_id)
        return (
            row is None or row.app_key_encrypted is None or self._box.opens(row.app_key_encrypted)
        )

    async def all_workspaces_unreadable_keys(self) -> list[str]:
        """Team IDs whose stored app key no configured secret key opens (checked at start-up)."""
        async with self._tx() as session:
            query = select(Workspace.team_id, Workspace.app_key_encrypted).where(
                col(Workspace.app_key_encrypted).is_not(None)
            )
            rows = (await session.exec(query)).all()
        return [team_id for team_id, token in rows if token and not self._box.opens(token)]

    async def set_mapping_mode(self, *, team_id: str, mode: MappingMode, actor: str) -> None:
        """How Slack users become third-party IDs in this workspace."""
        await self._change_workspace(
            team_id=team_id,
            actor=actor,
            action="workspace.mapping_mode",
            changes={"mapping_mode": MappingMode(mode).value},
        )

    async def set_reminders(
        self, *, team_id: str, minutes: tuple[int, ...] | None, actor: str
    ) -> None:
        """Reminder offsets in minutes before the start; () for none, None for the default."""
        await self._change_workspace(
            team_id=team_id,
            actor=actor,
            action="workspace.reminders",
            changes={"reminder_minutes": encode_minutes(minutes)},
        )

    async def set_reminder_channel(
        self, *, team_id: str, channel_id: str | None, actor: str
    ) -> None:
        """Where reminders go; None means the meeting's own channel."""
        await self._change_workspace(
            team_id=team_id,
            actor=actor,
            action="workspace.reminder_channel",
            changes={"reminder_channel_id": channel_id},
        )
