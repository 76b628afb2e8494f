"""Seen keys: recognising a repeated Slack submission or vendor push by its own identifier,
across every process that shares the database."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, delete

from storage.models import SeenKey
from storage.repo.base import RepositoryBase, insert_for

__all__ = ["IdempotencyQueries"]


class IdempotencyQueries(RepositoryBase):
    """`first_sight`. Not scoped by workspace: the keys are globally unique identifiers
    (Slack's trigger and view IDs, the vendor's push nonces), and a vendor push belongs to no
    workspace until it is read."""

    async def first_sight(self, *, scope: str, key: str, ttl: timedelta) -> bool:
        """True the first time `key` is seen in `scope` within `ttl`, False on every repeat,
        whichever process asks. Expired keys of the scope are dropped on the way."""
        now = self._clock()
        async with self._tx() as session:
            await session.exec(
                delete(SeenKey)
                .where(col(SeenKey.scope) == scope, col(SeenKey.expires_at) <= now)
                .execution_options(synchronize_session=False)
            )
            stmt = (
                insert_for(session, SeenKey)
                .values(scope=scope, key=key, expires_at=now + ttl)
                .on_conflict_do_nothing(index_elements=["scope", "key"])
                .returning(col(SeenKey.key))
            )
            return (await session.exec(stmt)).first() is not None
