"""Seen keys: recognising a repeated Slack submission or vendor push by its own identifier,
across every process that shares the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlmodel import col, delete

from storage.models import SeenKey
from storage.repo.base import RepositoryBase, insert_for

__all__ = ["PRUNE_EVERY", "IdempotencyQueries"]

PRUNE_EVERY: Final = 256
"""Expired keys are deleted on one call in this many: a key's own expiry is honoured at once
(see `first_sight`), so pruning only bounds the table's size and need not cost every call."""


class IdempotencyQueries(RepositoryBase):
    """`first_sight`. Not scoped by workspace: the keys are globally unique identifiers
    (Slack's trigger and view IDs, the vendor's push nonces), and a vendor push belongs to no
    workspace until it is read."""

    _sightings = 0

    async def first_sight(self, *, scope: str, key: str, ttl: timedelta) -> bool:
        """True the first time `key` is seen in `scope` within `ttl`, False on every repeat,
        whichever process asks. One statement: insert the key, or take over an expired one."""
        now = self._clock()
        self._sightings += 1
        async with self._tx() as session:
            if self._sightings % PRUNE_EVERY == 1:
                await session.exec(
                    delete(SeenKey)
                    .where(col(SeenKey.expires_at) <= now)
                    .execution_options(synchronize_session=False)
                )
            insert = insert_for(session, SeenKey).values(scope=scope, key=key, expires_at=now + ttl)
            stmt = insert.on_conflict_do_update(
                index_elements=["scope", "key"],
                set_={"expires_at": insert.excluded.expires_at},
                where=col(SeenKey.expires_at) <= now,
            ).returning(col(SeenKey.key))
            return (await session.exec(stmt)).first() is not None
