"""The delivery queue: one row per message the bot owes (reminder N of an occurrence, "started",
"ended"), and the writes that let any number of replicas post each of them exactly once.

The contract, which bot/scheduler.py and the Slack poster build on:

- Owed once. A delivery is unique per (workspace, meeting, occurrence, kind, recipient);
  enqueueing one already owed adds nothing, so replicas that see the same change owe one
  message. `recipient` is '' for a post in the meeting's conversation, else the user the
  message goes to by the app's DM.
- Handed to people. A conversation delivery the conversation cannot take (the card was shown
  privately, Slack refused the channel) is withdrawn with its reason and replaced, in the same
  transaction and under the same claim, by one delivery per person (`redirect_delivery`; same
  occurrence, kind, due time and payload). Done once: a second attempt finds it withdrawn.
- Claim and lease. `claim_due` leases due, unsent, unwithdrawn rows to one worker:
  `claimed_by` names it, `claimed_until` = now + lease, `attempts` counts up. A row is free
  when nobody holds it or its lease has run out (its worker died or stalled mid-post). On
  PostgreSQL the due rows are picked FOR UPDATE SKIP LOCKED in the claiming statement, so
  replicas claiming at once never get the same row; SQLite has one writer at a time (BEGIN
  IMMEDIATE, storage/db.py). `claim_due` is the one cross-workspace query here: each result
  carries its team_id, and every follow-up call passes it.
- Compare-and-set on the claim. Every later write (`renew_claim`, `mark_posting`,
  `mark_sent`, `mark_sent_many`, `release`, `withdraw_delivery`) applies only while the row is
  still claimed by the calling worker (and, except `mark_posting`, unsent); all but
  `mark_posting` say whether it applied. A worker whose claim was taken over changes nothing
  and learns so (None/False).
- posting_at. Before posting, the worker marks the row (`mark_posting` for a claimed round;
  `renew_claim` right before a post whose lease is running short, which also extends it).
  A row with `posting_at` set and no `sent_at` had a post of unknown outcome (a crash, a
  timeout): whoever claims it next must first look in the conversation's history for a
  message whose metadata names this delivery id (the poster's after-crash look-up, from
  `posting_at` minus a margin) and record that post with `mark_sent` instead of posting
  again. `release(posted=False)` clears `posting_at` when Slack answered that nothing was
  posted, so the retry skips the look-up.
- Recorded once. `mark_sent` stores the Slack ts under the worker's claim. If another worker
  took the claim over, that worker's record wins and this call returns False; repeating the
  same record returns True.
- Withdrawn for good. A withdrawn row is never claimed again: the worker withdraws one it must
  not post (`withdraw_delivery`, with the reason); a cancelled meeting withdraws every unsent
  one (`withdraw_unsent`, `withdraw_pending`) and an occurrence that is over its unsent
  reminders (`transition_meeting`, storage/repo/meetings.py).

Bounded: every owed message ends sent or withdrawn with a recorded reason (`last_error`),
never retried forever. The scheduler (bot/scheduler.py, bot/service) withdraws one
- when its occurrence is over or the meeting cancelled (reminders): "its meeting is over";
- at its first claim more than LATE_AFTER (1 hour) past its due time: "late: …";
- after MAX_ATTEMPTS (12) failed claims — posts refused, look-ups failing, DMs that cannot be
  opened, a card it waits for that never came; with the backoff (2 s doubling, at most 5 min)
  that is about 25 minutes: "gave up after N attempts: <last error>";
- at once when the person cannot be messaged at all ("cannot DM: …") or, for the
  conversation, when it hands the message to people (above).
So, while a scheduler runs, a message is settled at the latest about an hour after its due
time (a reminder also once its occurrence ends). A row dropped after a post of unknown
outcome (`posting_at` set) may have been posted once; it is never posted twice.

What a replica may assume: until the `claimed_until` its claim or renewal returned, no other
worker can claim the row, so a post that ends before then (minus a margin for clock skew
between replicas; every `now` comes from the caller's clock) was made under its claim alone.
Past that time it must assume a takeover: it may finish, but only the compare-and-set answers
say whether its writes counted. It may never assume a delivery is unposted just because
`sent_at` is empty while `posting_at` is set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Update, bindparam, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery, Meeting
from storage.repo.base import RepositoryBase, find_meeting, insert_for
from storage.repo.rows import (
    ClaimedDelivery,
    DeliveryRow,
    NewDelivery,
    SentPost,
    delivery_row,
    dumps,
    meeting_row,
)

__all__ = ["LAST_ERROR_MAX", "DeliveryQueries", "insert_new_deliveries", "withdraw_unsent"]

LAST_ERROR_MAX: Final = 1000
"""Characters of a delivery error kept; enough to diagnose, bounded in size."""


def _held_by(team_id: str, delivery_id: int, worker_id: str) -> tuple[Any, ...]:
    """WHERE terms: the delivery is unsent and claimed by `worker_id` (a compare-and-set on
    the claim, so a worker whose lease was taken over changes nothing)."""
    return (
        col(Delivery.team_id) == team_id,
        col(Delivery.id) == delivery_id,
        col(Delivery.claimed_by) == worker_id,
        col(Delivery.sent_at).is_(None),
    )


class _SentFacts(Protocol):
    """What `_posted_by` reads of a delivery: an ORM row or a selected row."""

    @property
    def sent_at(self) -> datetime | None: ...
    @property
    def claimed_by(self) -> str | None: ...
    @property
    def slack_ts(self) -> str | None: ...


def _posted_by(worker_id: str, slack_ts: str, row: _SentFacts | None) -> bool:
    """Whether the stored delivery is recorded as `worker_id`'s post `slack_ts`: what a
    repeated `mark_sent` of the same post answers True to."""
    return (
        row is not None
        and row.sent_at is not None
        and row.claimed_by == worker_id
        and row.slack_ts == slack_ts
    )


def insert_new_deliveries(
    session: AsyncSession, team_id: str, meeting_id: int, deliveries: Sequence[NewDelivery]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT of `deliveries` for a meeting that skips any already owed (same occurrence, kind,
    recipient)."""
    rows = [
        {
            "team_id": team_id,
            "meeting_id": meeting_id,
            "occurrence": d.occurrence,
            "kind": d.kind,
            "recipient": d.recipient,
            "due_at": d.due_at,
            "attempts": 0,
            "payload": None if d.payload is None else dumps(d.payload),
        }
        for d in deliveries
    ]
    return (
        insert_for(session, Delivery)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=["team_id", "meeting_id", "occurrence", "kind", "recipient"]
        )
    )


async def withdraw_unsent(
    session: AsyncSession, team_id: str, meeting_id: int, now: datetime
) -> int:
    """Withdraw every unsent message of a meeting as of `now`; returns how many."""
    stmt = (
        update(Delivery)
        .where(
            col(Delivery.team_id) == team_id,
            col(Delivery.meeting_id) == meeting_id,
            col(Delivery.sent_at).is_(None),
            col(Delivery.withdrawn_at).is_(None),
        )
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    return (await session.exec(stmt)).rowcount


class DeliveryQueries(RepositoryBase):
    """The delivery queue; see the module docstring for the exactly-once contract."""

    async def deliveries(self, *, team_id: str, meeting_id: int) -> list[DeliveryRow]:
        """Every message owed or sent for a meeting, by due time."""
        async with self._tx() as session:
            query = (
                select(Delivery)
                .where(Delivery.team_id == team_id, Delivery.meeting_id == meeting_id)
                .order_by(col(Delivery.due_at), col(Delivery.id))
            )
            return [delivery_row(r) for r in (await session.exec(query)).all()]

    async def enqueue_deliveries(
        self, *, team_id: str, meeting_id: int, deliveries: Sequence[NewDelivery]
    ) -> int:
        """Add messages owed for an existing meeting, skipping any already recorded
        (same occurrence and kind); returns how many were new."""
        if not deliveries:
            return 0
        async with self._tx() as session:
            if await find_meeting(session, team_id, meeting_id) is None:
                return 0
            stmt = insert_new_deliveries(session, team_id, meeting_id, deliveries).returning(
                col(Delivery.id)
            )
            return len((await session.exec(stmt)).all())

    async def withdraw_pending(self, *, team_id: str, meeting_id: int) -> int:
        """Withdraw every unsent message of a meeting; returns how many."""
        async with self._tx() as session:
            return await withdraw_unsent(session, team_id, meeting_id, self._clock())

    async def claim_due(
        self, *, now: datetime, worker_id: str, lease_seconds: float, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease up to `limit` due, unsent, unwithdrawn deliveries to `worker_id`, oldest first.

        Cross-workspace on purpose: this is the scheduler's job queue. A delivery is free if
        nobody holds it or its lease has expired (a worker died mid-post). On PostgreSQL rows
        another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED), so concurrent
        replicas never get the same row; SQLite serialises writers (BEGIN IMMEDIATE).
        """
        async with self._tx() as session:
            due = (
                select(col(Delivery.id))
                .where(
                    col(Delivery.due_at) <= now,
                    col(Delivery.sent_at).is_(None),
                    col(Delivery.withdrawn_at).is_(None),
                    or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) <= now),
                )
                .order_by(col(Delivery.due_at), col(Delivery.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("due")
            )
            stmt = (
                update(Delivery)
                .where(col(Delivery.id).in_(select(due.c.id)))
                .values(
                    claimed_by=worker_id,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    attempts=col(Delivery.attempts) + 1,
                )
                .returning(Delivery)
                .execution_options(synchronize_session=False)
            )
            claimed = sorted(
                (await session.exec(stmt)).scalars().all(), key=lambda d: (d.due_at, d.id)
            )
            if not claimed:
                return []
            meetings_query = select(Meeting).where(
                col(Meeting.id).in_({d.meeting_id for d in claimed})
            )
            meetings = {m.id: m for m in (await session.exec(meetings_query)).all()}
            return [
                ClaimedDelivery(delivery_row(d), meeting_row(meetings[d.meeting_id]))
                for d in claimed
            ]

    async def renew_claim(
        self,
        *,
        team_id: str,
        delivery_id: int,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
    ) -> datetime | None:
        """Extend `worker_id`'s claim to now + lease and mark a post as begun (`posting_at`);
        call it right before posting.

        The new lease end, or None if the claim is no longer this worker's (another worker
        took it over after it expired) or the delivery was sent or withdrawn meanwhile.
        """
        until = now + timedelta(seconds=lease_seconds)
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                    col(Delivery.withdrawn_at).is_(None),
                )
                .values(claimed_until=until, posting_at=func.coalesce(Delivery.posting_at, now))
                .execution_options(synchronize_session=False)
            )
            return until if (await session.exec(stmt)).rowcount == 1 else None

    async def mark_posting(
        self, *, team_id: str, delivery_ids: Sequence[int], worker_id: str, now: datetime
    ) -> None:
        """Mark claimed deliveries as about to be posted (`posting_at`), in one statement:
        from here on a worker that takes one over looks for an earlier post first."""
        if not delivery_ids:
            return
        async with self._tx() as session:
            await session.exec(
                update(Delivery)
                .where(
                    col(Delivery.team_id) == team_id,
                    col(Delivery.id).in_(list(delivery_ids)),
                    col(Delivery.claimed_by) == worker_id,
                    col(Delivery.posting_at).is_(None),
                )
                .values(posting_at=now)
                .execution_options(synchronize_session=False)
            )

    async def withdraw_delivery(
        self, *, team_id: str, delivery_id: int, worker_id: str, reason: str
    ) -> bool:
        """Withdraw one claimed delivery that must never be posted (its meeting is over,
        or Slack refuses the channel for good), recording why."""
        async with self._tx() as session:
            stmt = self._withdraw(*_held_by(team_id, delivery_id, worker_id), reason=reason)
            return (await session.exec(stmt)).rowcount == 1

    def _withdraw(self, *where: Any, reason: str) -> Update:
        """UPDATE: withdraw the unwithdrawn rows matching `where`, recording `reason`."""
        return (
            update(Delivery)
            .where(*where, col(Delivery.withdrawn_at).is_(None))
            .values(
                withdrawn_at=self._clock(),
                claimed_until=None,
                last_error=reason[:LAST_ERROR_MAX],
            )
            .execution_options(synchronize_session=False)
        )

    async def withdraw_team(self, *, team_id: str, reason: str) -> int:
        """Withdraw every unsent message the workspace is owed, recording why (the app was
        uninstalled from it); how many. A post already under way may still finish."""
        async with self._tx() as session:
            stmt = self._withdraw(
                col(Delivery.team_id) == team_id, col(Delivery.sent_at).is_(None), reason=reason
            )
            return (await session.exec(stmt)).rowcount

    async def redirect_delivery(
        self,
        *,
        team_id: str,
        delivery_id: int,
        worker_id: str,
        recipients: Sequence[str],
        reason: str,
    ) -> bool:
        """Hand a claimed conversation delivery over to `recipients`, one new row each (same
        occurrence, kind, due time and payload), and withdraw it with `reason`, in one
        transaction. False (nothing changed) if the claim is no longer `worker_id`'s."""
        async with self._tx() as session:
            row = (
                await session.exec(
                    select(Delivery).where(
                        *_held_by(team_id, delivery_id, worker_id),
                        col(Delivery.withdrawn_at).is_(None),
                        col(Delivery.recipient) == "",
                    )
                )
            ).one_or_none()
            if row is None:
                return False
            stmt = self._withdraw(*_held_by(team_id, delivery_id, worker_id), reason=reason)
            if (await session.exec(stmt)).rowcount != 1:
                return False
            payload = None if row.payload is None else json.loads(row.payload)
            owed = [
                NewDelivery(row.occurrence, row.kind, row.due_at, payload, recipient=r)
                for r in dict.fromkeys(recipients)
                if r
            ]
            if owed:
                await session.exec(insert_new_deliveries(session, team_id, row.meeting_id, owed))
            return True

    async def mark_sent(
        self, *, team_id: str, delivery_id: int, worker_id: str, slack_ts: str, sent_at: datetime
    ) -> bool:
        """Record that `worker_id` posted the delivery. False if another worker has taken the
        claim over (its post wins); True again for a repeated call by the same worker."""
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                )
                .values(sent_at=sent_at, slack_ts=slack_ts, claimed_until=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if (await session.exec(stmt)).rowcount == 1:
                return True
            query = select(Delivery).where(Delivery.team_id == team_id, Delivery.id == delivery_id)
            return _posted_by(worker_id, slack_ts, (await session.exec(query)).one_or_none())

    async def mark_sent_many(
        self, *, team_id: str, sent: Sequence[SentPost], worker_id: str, sent_at: datetime
    ) -> set[int]:
        """`mark_sent` for many posts in one transaction, each row still a compare-and-set
        on `worker_id`'s claim; the ids recorded as this worker's posts (as `mark_sent`)."""
        if not sent:
            return set()
        table = Delivery.__table__  # type: ignore[attr-defined]
        stmt = (
            table.update()
            .where(
                table.c.team_id == team_id,
                table.c.id == bindparam("b_id"),
                table.c.claimed_by == worker_id,
                table.c.sent_at.is_(None),
            )
            .values(
                sent_at=sent_at, slack_ts=bindparam("b_ts"), claimed_until=None, last_error=None
            )
        )
        async with self._tx() as session:
            conn = await session.connection()
            await conn.execute(
                stmt,
                [{"b_id": p.delivery_id, "b_ts": p.slack_ts} for p in sent],
            )
            query = (
                table.select()
                .with_only_columns(
                    table.c.id,
                    table.c.team_id,
                    table.c.claimed_by,
                    table.c.sent_at,
                    table.c.slack_ts,
                )
                .where(table.c.team_id == team_id, table.c.id.in_([p.delivery_id for p in sent]))
            )
            rows = {r.id: r for r in await conn.execute(query)}
        return {
            p.delivery_id
            for p in sent
            if _posted_by(worker_id, p.slack_ts, rows.get(p.delivery_id))
        }

    async def release(
        self,
        *,
        team_id: str,
        delivery_id: int,
        worker_id: str,
        error: str,
        retry_at: datetime | None = None,
        posted: bool | None = None,
    ) -> bool:
        """Give a claimed delivery back after a failed post, recording the error.

        It is claimable again at once, or from `retry_at` (backoff). `posted=False` says
        Slack answered and certainly did not post (clears `posting_at`: no lookup needed on
        retry); None leaves an unknown outcome marked. False if the claim is no longer this
        worker's or the delivery was sent.
        """
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                )
                .values(
                    claimed_by=None,
                    claimed_until=retry_at,
                    last_error=error[:LAST_ERROR_MAX],
                    **({"posting_at": None} if posted is False else {}),
                )
                .execution_options(synchronize_session=False)
            )
            return (await session.exec(stmt)).rowcount == 1
