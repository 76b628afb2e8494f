"""The messages the bot owes (reminders, "started", "ended"): which ones a meeting owes, and
the queue the scheduler leases them from and reports back to (guarantees: storage.repo)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.service.ports import ClaimedDelivery, DeliveryRow
from storage.repo import REMINDER_PREFIX, NewDelivery, Repository, SentPost

__all__ = ["ENDED", "MAX_ATTEMPTS", "STARTED", "DeliveryQueue", "reminder_deliveries"]

STARTED: Final = "started"
"""Kind of the thread reply saying the meeting started."""
ENDED: Final = "ended"
"""Kind of the thread reply saying the meeting ended, and how long it lasted."""
MAX_ATTEMPTS: Final = 12
"""A message whose post or look-up failed this many times is dropped with its last error
(with the scheduler's backoff, 2 s doubling to 5 min, about 25 minutes of trying)."""


def reminder_deliveries(
    occurrences: Sequence[datetime],
    *,
    offsets: Sequence[int],
    now: datetime,
    channel_id: str | None = None,
) -> list[NewDelivery]:
    """One reminder per occurrence and offset that is still ahead of `now`.

    `channel_id`: the workspace's reminder channel (`/meet admin channel`), where these
    reminders go instead of the meeting's own channel.
    """
    payload = {"channel": channel_id} if channel_id else None
    return [
        NewDelivery(
            occurrence=start, kind=f"{REMINDER_PREFIX}{minutes}", due_at=due, payload=payload
        )
        for start in occurrences
        for minutes in offsets
        if (due := start - timedelta(minutes=minutes)) > now
    ]


class DeliveryQueue:
    """Owed messages, leased to one worker at a time: claim, mark as posting, renew the lease,
    then record the post, give it back for a retry, or drop it."""

    def __init__(
        self, repo: Repository, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._repo = repo
        self._clock = clock

    async def claim(
        self, *, worker_id: str, lease_seconds: float, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease due messages to `worker_id`, oldest first."""
        return await self._repo.claim_due(
            now=self._clock(), worker_id=worker_id, lease_seconds=lease_seconds, limit=limit
        )

    async def posting(self, deliveries: Sequence[DeliveryRow], *, worker_id: str) -> None:
        """Mark claimed messages as about to be posted (see `Repository.mark_posting`)."""
        by_team: dict[str, list[int]] = {}
        for d in deliveries:
            by_team.setdefault(d.team_id, []).append(d.id)
        for team_id, ids in by_team.items():
            await self._repo.mark_posting(
                team_id=team_id, delivery_ids=ids, worker_id=worker_id, now=self._clock()
            )

    async def renew(
        self, delivery: DeliveryRow, *, worker_id: str, lease_seconds: float
    ) -> datetime | None:
        """Renew the claim right before posting; the lease end, or None if it was lost."""
        return await self._repo.renew_claim(
            team_id=delivery.team_id,
            delivery_id=delivery.id,
            worker_id=worker_id,
            now=self._clock(),
            lease_seconds=lease_seconds,
        )

    async def sent(self, posted: Sequence[tuple[DeliveryRow, str]], *, worker_id: str) -> set[int]:
        """Record posted messages (delivery, Slack ts), one write per workspace; the ids
        recorded (a message whose claim was lost is not)."""
        by_team: dict[str, list[SentPost]] = {}
        for d, ts in posted:
            by_team.setdefault(d.team_id, []).append(SentPost(d.id, ts))
        recorded: set[int] = set()
        for team_id, sent in by_team.items():
            recorded |= await self._repo.mark_sent_many(
                team_id=team_id, sent=sent, worker_id=worker_id, sent_at=self._clock()
            )
        return recorded

    async def failed(
        self,
        delivery: DeliveryRow,
        *,
        worker_id: str,
        error: str,
        retry_in: timedelta,
        posted: bool | None,
    ) -> None:
        """Give the message back to be retried after `retry_in`; nothing is dropped."""
        await self._repo.release(
            team_id=delivery.team_id,
            delivery_id=delivery.id,
            worker_id=worker_id,
            error=error,
            retry_at=self._clock() + retry_in,
            posted=posted,
        )

    async def to_people(
        self, delivery: DeliveryRow, *, worker_id: str, recipients: Sequence[str], reason: str
    ) -> bool:
        """Hand a message for the conversation over to `recipients` (one DM each, owed like
        any message) and withdraw it with `reason`; False if the claim was lost."""
        return await self._repo.redirect_delivery(
            team_id=delivery.team_id,
            delivery_id=delivery.id,
            worker_id=worker_id,
            recipients=recipients,
            reason=reason,
        )

    async def drop(self, delivery: DeliveryRow, *, worker_id: str, reason: str) -> None:
        """Withdraw a message that must never be posted."""
        await self._repo.withdraw_delivery(
            team_id=delivery.team_id, delivery_id=delivery.id, worker_id=worker_id, reason=reason
        )
