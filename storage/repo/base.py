"""What every kind of query shares: the transaction helper (one transaction per call, driver
errors become StorageError), the injected clock, the dialect's INSERT and the workspace-scoped
meeting lookup that both meetings and deliveries start from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import StorageError
from storage.models import Meeting
from storage.secrets import SecretBox

__all__ = ["RepositoryBase", "find_meeting", "insert_for"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RepositoryBase:
    """The state every per-kind query class works with; `Repository` composes them all."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        secret_box: SecretBox,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._box = secret_box
        self._clock = clock

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            # The first line names the error; the statement and its parameters stay out.
            raise StorageError(str(exc).partition("\n")[0]) from exc


def insert_for(session: AsyncSession, model: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """INSERT with the dialect's ON CONFLICT support (both dialects spell it the same)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


async def find_meeting(
    session: AsyncSession, team_id: str, meeting_id: int, *, lock: bool = False
) -> Meeting | None:
    """The workspace's meeting row by our id; `lock` selects it FOR UPDATE."""
    query = select(Meeting).where(Meeting.team_id == team_id, Meeting.id == meeting_id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).one_or_none()
