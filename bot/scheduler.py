"""Background jobs (APScheduler 3, in every process): post cards that could not be posted.

The database holds what is owed; APScheduler only says when to look.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.service import MeetingService
from bot.slack.notifier import Notifier

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    """The process's interval jobs."""

    def __init__(self, settings: Settings, *, service: MeetingService, notifier: Notifier) -> None:
        self._service = service
        self._notifier = notifier
        # The command that created a meeting holds its card like a claimed delivery: only
        # after the claim time may this job decide the card was lost and post it.
        self._card_grace = timedelta(seconds=settings.claim_seconds)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.repair_cards,
            "interval",
            seconds=settings.tick_seconds,
            id="repair-cards",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            # A late run is still useful; APScheduler's default grace (1 s) would drop it.
            misfire_grace_time=max(60, int(settings.tick_seconds * 4)),
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    async def repair_cards(self) -> int:
        """Post the cards of meetings whose card never reached Slack; how many were posted."""
        posted = 0
        for meeting in await self._service.meetings_without_card(older_than=self._card_grace):
            try:
                ts = await self._notifier.post_card(meeting)
            except SlackApiError as exc:
                log.warning("card of meeting %s still not posted: %s", meeting.id, exc)
                continue
            if ts is not None and meeting.channel_id:
                await self._service.card_posted(
                    meeting, channel_id=meeting.channel_id, message_ts=ts, card_state=meeting.state
                )
                posted += 1
        return posted
