"""Background jobs (APScheduler 3, in every process): deliver what is owed, follow live status,
and post cards that could not be posted. Platform-neutral: the chat side is a `ChatPoster`
(bot.service.ports; Slack's is bot.slack.poster).

The database holds what is owed; APScheduler only says when to look (its memory job store
holds nothing that matters). Exactly-once posting: a delivery is leased to one worker
(`claim_due`), the lease is renewed right before the post (a compare-and-set on the claimant),
the post runs inside the lease, and every post carries its delivery id (Slack: in message
metadata), so a worker that takes over a post of unknown outcome finds it instead of posting
again. Live-status changes are applied by the service and then handed to the listeners
(`add_listener`): the card updater here, and whatever else wants them (Slack Calls).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.metrics import Metrics
from bot.service import (
    LATE_AFTER,
    MAX_ATTEMPTS,
    DeliveryQueue,
    Fate,
    MeetingService,
    StatusChange,
    StatusKind,
    delivery_fate,
    dm_recipients,
    superseded,
)
from bot.service.ports import (
    REMINDER_PREFIX,
    ChannelGoneError,
    ChatPoster,
    ClaimedDelivery,
    DeliveryRow,
    MeetingPush,
    MeetingRow,
    PostError,
    PostRefusedError,
    PostUnknownError,
)

__all__ = ["Scheduler", "StatusListener", "posting_channel", "worker_name"]

log = logging.getLogger(__name__)

StatusListener = Callable[[StatusChange], Awaitable[None]]
"""Called with every applied live-status change (started, ended, not held, participants)."""

CLAIM_BATCH: Final = 500
"""Deliveries leased per round; a tick keeps claiming rounds while rows are due."""
LOOKUP_SLACK: Final = timedelta(minutes=1)
"""An earlier post is looked for from this long before its attempt began (clock skew)."""
MAX_BACKOFF_SECONDS: Final = 300


def worker_name() -> str:
    """This process's claimant id: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int) -> timedelta:
    """Wait before retrying a failed delivery: 2, 4, 8 ... seconds, at most 5 minutes."""
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** min(max(attempts, 1), 9)))


def posting_channel(delivery: DeliveryRow, meeting: MeetingRow) -> str:
    """Where a delivery goes: its person (resolved to the app's DM with them when posting),
    the reminder channel it was created for, else the meeting's conversation."""
    if delivery.recipient:
        return delivery.recipient
    chosen = (delivery.payload or {}).get("channel")
    return chosen if isinstance(chosen, str) and chosen else meeting.channel_id or ""


@dataclass(slots=True)
class _Sent:
    delivery: DeliveryRow
    slack_ts: str
    recorded: bool | None = None
    error: BaseException | None = None


class SentRecorder:
    """Group commit for posted deliveries: a post that finishes while a write is running
    joins the next write, so N concurrent posts cost a few transactions, not N. No post
    waits for a timer; each row is still a compare-and-set on this worker's claim, and a
    crash before the write is covered like any unrecorded post (`posting_at`, lookup)."""

    def __init__(self, queue: DeliveryQueue, worker_id: str) -> None:
        self._queue = queue
        self._worker_id = worker_id
        self._pending: list[_Sent] = []
        self._lock = asyncio.Lock()

    async def sent(self, delivery: DeliveryRow, slack_ts: str) -> bool:
        """Record the post; False if the claim was lost (another worker's post wins)."""
        entry = _Sent(delivery, slack_ts)
        self._pending.append(entry)
        async with self._lock:
            if entry.recorded is None and entry.error is None:
                batch, self._pending = self._pending, []
                try:
                    ids = await self._queue.sent(
                        [(e.delivery, e.slack_ts) for e in batch], worker_id=self._worker_id
                    )
                except BaseException as exc:
                    for e in batch:
                        e.error = exc
                    raise
                for e in batch:
                    e.recorded = e.delivery.id in ids
        if entry.error is not None:
            raise entry.error
        return bool(entry.recorded)


class Scheduler:
    """The process's interval jobs: tick (deliveries), status poll, card repair."""

    def __init__(
        self,
        settings: Settings,
        *,
        service: MeetingService,
        deliveries: DeliveryQueue,
        poster: ChatPoster,
        listeners: Sequence[StatusListener] = (),
        worker_id: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._service = service
        self._deliveries = deliveries
        self._poster = poster
        self._clock = clock
        self._lease = settings.claim_seconds
        # A post gets what is left of its freshly renewed lease, minus this margin, so it
        # is over (or abandoned) before anyone else may take the delivery over.
        self._margin = min(1.0, settings.claim_seconds / 5)
        self.worker_id = worker_id or worker_name()
        self._listeners: list[StatusListener] = [self.update_card, *listeners]
        self._sent = SentRecorder(deliveries, self.worker_id)
        self._handed_over = False
        # The command that created a meeting holds its card like a claimed delivery: only
        # after the claim time may this job decide the card was lost and post it.
        self._card_grace = timedelta(seconds=settings.claim_seconds)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        common: dict[str, Any] = {
            "replace_existing": True,
            "max_instances": 1,
            "coalesce": True,
        }
        self._scheduler.add_job(
            self.repair_cards,
            "interval",
            seconds=settings.tick_seconds,
            id="repair-cards",
            # A late run is still useful; APScheduler's default grace (1 s) would drop it.
            misfire_grace_time=max(60, int(settings.tick_seconds * 4)),
            **common,
        )
        # Tick and poll run however late they are (None): what is owed is in the database,
        # so a late run only catches up, and coalescing folds a backlog into one run. The
        # default grace of 1 s would silently skip runs after an event-loop stall.
        self._scheduler.add_job(
            self._tick_job,
            "interval",
            seconds=settings.tick_seconds,
            id="tick",
            misfire_grace_time=None,
            **common,
        )
        self._scheduler.add_job(
            self.poll,
            "interval",
            seconds=settings.status_poll_seconds,
            id="status-poll",
            misfire_grace_time=None,
            **common,
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    def add_listener(self, listener: StatusListener) -> None:
        """Also call `listener` with every live-status change (after the card update)."""
        self._listeners.append(listener)

    # --- live status -----------------------------------------------------------------------

    async def poll(self) -> list[StatusChange]:
        """One status cycle: ask the vendor, apply the changes, tell the listeners."""
        changes = await self._service.poll_status()
        await self.dispatch(changes)
        return changes

    async def apply_push(self, push: MeetingPush) -> list[StatusChange]:
        """Apply a verified vendor event like a poll result."""
        changes = await self._service.apply_push(push)
        await self.dispatch(changes)
        return changes

    async def dispatch(self, changes: Sequence[StatusChange]) -> None:
        """Hand applied changes to every listener; a failing listener never stops the rest."""
        for change in changes:
            for listener in self._listeners:
                try:
                    await listener(change)
                except Exception:
                    log.exception("status listener failed on meeting %s", change.meeting.id)
        if any(c.kind in (StatusKind.STARTED, StatusKind.ENDED) for c in changes):
            self._wake_tick()

    def _wake_tick(self) -> None:
        # The start/end messages were just enqueued as due: post them now, not a tick later.
        job = self._scheduler.get_job("tick")
        if job is not None and self._scheduler.running:
            job.modify(next_run_time=datetime.now(UTC))

    async def update_card(self, change: StatusChange) -> None:
        """The card follows the state: in progress (participants), ended and how long."""
        await self._show_state(change.meeting)

    async def _show_state(self, meeting: MeetingRow) -> None:
        if not meeting.message_ts or not meeting.channel_id:
            return
        try:
            await self._poster.show_state(meeting)
        except PostRefusedError as exc:
            # The next start/end post repairs it (it compares card_state with the state).
            log.warning("card of meeting %s not updated: %s", meeting.id, exc.reason)
            return
        await self._service.card_shown(meeting)

    # --- deliveries --------------------------------------------------------------------------

    async def _tick_job(self) -> None:
        posted = await self.tick()
        if self._metrics is not None and posted:
            self._metrics.inc("meetbot_deliveries_posted_total", posted)

    async def tick(self) -> int:
        """Claim due deliveries round after round and post them; how many were posted."""
        posted = 0
        while True:
            claimed = await self._deliveries.claim(
                worker_id=self.worker_id, lease_seconds=self._lease, limit=CLAIM_BATCH
            )
            stale = superseded([c.delivery for c in claimed])
            # One write marks the whole round as in flight; a post then needs only its
            # own write when its lease runs short, and always the write recording it.
            await self._deliveries.posting(
                [c.delivery for c in claimed if c.delivery.id not in stale],
                worker_id=self.worker_id,
            )
            by_channel: dict[str, list[ClaimedDelivery]] = {}
            for item in claimed:
                if item.delivery.id in stale:
                    await self._deliveries.drop(
                        item.delivery, worker_id=self.worker_id, reason="a later reminder is due"
                    )
                    continue
                by_channel.setdefault(posting_channel(item.delivery, item.meeting), []).append(item)
            self._handed_over = False
            counts = await asyncio.gather(*(self._channel(items) for items in by_channel.values()))
            posted += sum(counts)
            if len(claimed) < CLAIM_BATCH and not self._handed_over:
                return posted

    async def _channel(self, items: list[ClaimedDelivery]) -> int:
        posted = 0
        for item in items:
            try:
                posted += await self._deliver(item.delivery, item.meeting)
            except Exception:
                # The claim expires and another round retries it; nothing is lost.
                log.exception("delivery %s failed unexpectedly", item.delivery.id)
        return posted

    async def _deliver(self, delivery: DeliveryRow, meeting: MeetingRow) -> bool:
        """Post one claimed delivery (or find its earlier post); True if posted now."""
        fate = delivery_fate(delivery, meeting, self._clock())
        if fate is Fate.DROP:
            await self._deliveries.drop(
                delivery, worker_id=self.worker_id, reason="its meeting is over or unreachable"
            )
            return False
        if fate is Fate.LATE:
            await self._deliveries.drop(
                delivery, worker_id=self.worker_id, reason=f"late: not posted within {LATE_AFTER}"
            )
            return False
        if fate is Fate.WAIT:
            await self._failed(delivery, "the card is not posted yet", posted=False)
            return False
        if fate is Fate.TO_PEOPLE:
            await self._to_people(delivery, meeting, "the card was shown privately")
            return False
        channel = posting_channel(delivery, meeting)
        thread = (
            None
            if delivery.kind.startswith(REMINDER_PREFIX) or delivery.recipient
            else meeting.message_ts
        )
        if delivery.recipient:
            try:
                channel = await self._poster.direct_channel(delivery.recipient)
            except ChannelGoneError as exc:
                await self._deliveries.drop(
                    delivery, worker_id=self.worker_id, reason=f"cannot DM: {exc.reason}"
                )
                return False
            except (PostError, TimeoutError) as exc:
                await self._failed(delivery, f"DM not opened: {_error(exc)}", posted=None)
                return False
        if delivery.posting_at is not None:
            # An earlier attempt began posting and never recorded the outcome.
            try:
                found = await self._poster.find_due(
                    team_id=meeting.team_id,
                    channel=channel,
                    delivery_id=delivery.id,
                    oldest=delivery.posting_at - LOOKUP_SLACK,
                    thread=thread,
                )
            except (PostError, TimeoutError) as exc:
                await self._failed(delivery, f"lookup failed: {_error(exc)}", posted=None)
                return False
            if found is not None:
                await self._sent.sent(delivery, found)
                return False
        if not delivery.recipient and not (meeting.message_ts and channel == meeting.channel_id):
            # A conversation the card was not posted in (a reminders channel) is checked, and
            # joined if public, before the post's timeout starts: a slow answer here (a rate
            # limit) must not leave the post's outcome unknown, which costs a history look-up.
            # Where the card went, the bot could post; if it was removed since, the post is
            # refused and the message goes to people (ChannelGoneError below).
            try:
                await self._poster.ensure_postable(channel, team_id=meeting.team_id)
            except ChannelGoneError as exc:
                await self._to_people(delivery, meeting, f"the conversation refused: {exc.reason}")
                return False
            except PostRefusedError as exc:
                await self._failed(delivery, f"channel not checked: {exc.reason}", posted=False)
                return False
        try:
            async with self._poster.turn(channel):
                now = self._clock()
                until = delivery.claimed_until
                if until is None or (until - now).total_seconds() < self._lease / 2:
                    until = await self._deliveries.renew(
                        delivery, worker_id=self.worker_id, lease_seconds=self._lease
                    )
                    if until is None:
                        return False  # taken over by another worker, or sent/withdrawn
                    now = self._clock()
                async with asyncio.timeout((until - now).total_seconds() - self._margin):
                    ts = await self._poster.post_due(
                        delivery, meeting, channel=channel, now=now, thread=thread
                    )
        except ChannelGoneError as exc:
            if delivery.recipient:
                await self._deliveries.drop(delivery, worker_id=self.worker_id, reason=exc.reason)
            else:
                await self._to_people(delivery, meeting, f"the conversation refused: {exc.reason}")
            return False
        except PostRefusedError as exc:
            # The platform answered, so nothing was posted.
            await self._failed(delivery, exc.reason, posted=False)
            return False
        except (PostUnknownError, TimeoutError) as exc:
            await self._failed(delivery, f"outcome unknown: {_error(exc)}", posted=None)
            return False
        if not await self._sent.sent(delivery, ts):
            log.warning("delivery %s was posted after its claim was lost", delivery.id)
        if thread and meeting.card_state != meeting.state.value:
            await self._show_state(meeting)  # the state change's own card update failed
        return True

    async def _to_people(self, delivery: DeliveryRow, meeting: MeetingRow, why: str) -> None:
        people = dm_recipients(meeting)
        await self._deliveries.to_people(
            delivery,
            worker_id=self.worker_id,
            recipients=people,
            reason=f"sent by DM to {len(people)} people instead: {why}",
        )
        self._handed_over = True  # the new rows are due: the tick claims another round

    async def _failed(self, delivery: DeliveryRow, error: str, *, posted: bool | None) -> None:
        log.warning(
            "delivery %s not posted (attempt %s): %s", delivery.id, delivery.attempts, error
        )
        if delivery.attempts >= MAX_ATTEMPTS:
            # Bounded: what keeps failing ends dropped with its reason, never retried forever.
            await self._deliveries.drop(
                delivery,
                worker_id=self.worker_id,
                reason=f"gave up after {delivery.attempts} attempts: {error}",
            )
            return
        await self._deliveries.failed(
            delivery,
            worker_id=self.worker_id,
            error=error,
            retry_in=backoff(delivery.attempts),
            posted=posted,
        )

    # --- cards ----------------------------------------------------------------------------

    async def repair_cards(self) -> int:
        """Post the cards of meetings whose card never reached the chat; how many were posted."""
        posted = 0
        for meeting in await self._service.meetings_without_card(older_than=self._card_grace):
            try:
                ts = await self._poster.post_card(meeting)
            except PostRefusedError as exc:
                log.warning("card of meeting %s still not posted: %s", meeting.id, exc)
                continue
            except Exception:  # one meeting's trouble must not hold back the others' cards
                log.exception("card of meeting %s could not be posted", meeting.id)
                continue
            if ts is not None and meeting.channel_id:
                await self._service.card_posted(
                    meeting, channel_id=meeting.channel_id, message_ts=ts, card_state=meeting.state
                )
                posted += 1
            else:
                # The poster showed it to the organizer privately: stop trying the conversation.
                await self._service.card_unpostable(meeting)
        return posted


def _error(exc: BaseException) -> str:
    if isinstance(exc, PostError):
        return exc.reason
    return type(exc).__name__
