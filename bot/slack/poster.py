"""The scheduler's posts on Slack (`SlackPoster`, the `ChatPoster` of bot.service.ports):
deliveries rendered as of their posting time, tagged with their delivery id in message
metadata, paced per channel, and found again after a crash by that metadata; the card
repair and card-state updates; Slack's errors told as the neutral outcomes.

It posts only where it can read its posts back: a conversation it is a member of (a public
channel is joined first, `Notifier.reach`) or the app's own DM with a person
(`direct_channel`, history with im:history). Anywhere else the conversation is refused
(ChannelGoneError) and the scheduler sends the message to the people by DM instead.

Its Web API client must not retry dropped connections (`web_client(...,
retry_connection_errors=False)`): a post retried blindly could be posted twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import ENDED, STARTED
from bot.service.ports import (
    REMINDER_PREFIX,
    ChannelGoneError,
    DeliveryRow,
    MeetingRow,
    PostRefusedError,
    PostUnknownError,
)
from bot.slack import blocks
from bot.slack.installs import acting_for
from bot.slack.notifier import CANNOT_DM, NOT_IN_CHANNEL, CardHook, Notifier, card_view

__all__ = [
    "DELIVERY_EVENT",
    "ChannelPacer",
    "SlackPoster",
    "delivery_metadata",
    "render_delivery",
]

log = logging.getLogger(__name__)

DELIVERY_EVENT: Final = "meetbot_delivery"
"""Message metadata event type of every scheduled post; its payload names the delivery id."""
HISTORY_PAGE: Final = 200
HISTORY_PAGES: Final = 10
"""How far back a lookup pages (2 000 messages): far more than a channel gets in a lease."""


def delivery_metadata(delivery_id: int) -> dict[str, Any]:
    """The message metadata that ties a Slack post to its delivery row."""
    return {"event_type": DELIVERY_EVENT, "event_payload": {"delivery_id": delivery_id}}


def _delivery_id(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != DELIVERY_EVENT:
        return None
    payload = metadata.get("event_payload")
    value = payload.get("delivery_id") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else None


def render_delivery(delivery: DeliveryRow, meeting: MeetingRow, now: datetime) -> dict[str, Any]:
    """The message a delivery posts; reminders say the real time left as of `now`."""
    card = card_view(meeting)
    payload = delivery.payload or {}
    if delivery.kind.startswith(REMINDER_PREFIX):
        minutes = int(delivery.kind.removeprefix(REMINDER_PREFIX))
        return blocks.render_reminder(
            replace(card, start=delivery.occurrence), minutes_before=minutes, now=now
        )
    if delivery.kind == STARTED:
        participants = payload.get("participants")
        return blocks.render_thread_started(
            card, participants if isinstance(participants, int) else None
        )
    if delivery.kind == ENDED:
        lasted = payload.get("lasted_minutes")
        return blocks.render_thread_ended(card, lasted if isinstance(lasted, int) else 0)
    raise ValueError(f"unknown delivery kind {delivery.kind!r}")


class ChannelPacer:
    """About one post per `interval` seconds per channel; different channels never wait on
    each other. Turns in one channel are taken in arrival order (asyncio.Lock is FIFO)."""

    def __init__(
        self, interval: float = 1.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}

    @asynccontextmanager
    async def turn(self, channel: str) -> AsyncIterator[None]:
        """Wait for the channel's next slot; the slot is used when the block exits."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._next.get(channel, 0.0) - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._next[channel] = self._clock() + self._interval
        self._forget_idle()

    def _forget_idle(self) -> None:
        if len(self._locks) < 1000:
            return
        now = self._clock()
        for channel in [c for c, t in self._next.items() if t < now]:
            lock = self._locks.get(channel)
            if lock is not None and not lock.locked():
                del self._locks[channel], self._next[channel]


def _code(exc: SlackApiError) -> str:
    """Slack's error code of a refused call."""
    return str(exc.response.get("error") or "slack_error")


class SlackPoster:
    """Posts what the scheduler hands it through the Web API (a `ChatPoster`)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pacer: ChannelPacer | None = None,
        prepare_card: CardHook | None = None,
    ) -> None:
        self._client = client
        self._pacer = pacer or ChannelPacer()
        self._cards = Notifier(client, prepare_card=prepare_card)

    def turn(self, channel: str) -> AbstractAsyncContextManager[None]:
        """`async with poster.turn(channel):` waits for the channel's next posting slot."""
        return self._pacer.turn(channel)

    async def direct_channel(self, user_id: str) -> str:
        """The app's DM with `user_id` (conversations.open, remembered)."""
        try:
            return await self._cards.dm_channel(user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in CANNOT_DM:
                raise ChannelGoneError(_code(exc)) from exc
            raise PostRefusedError(_code(exc)) from exc
        except aiohttp.ClientError as exc:
            raise PostUnknownError(type(exc).__name__) from exc

    async def ensure_postable(self, channel: str, *, team_id: str) -> None:
        """Join a public channel before posting there (remembered per process);
        ChannelGoneError where the bot cannot post, PostRefusedError when Slack did not say."""
        try:
            with acting_for(team_id):
                postable = await self._cards.reach(channel)
        except SlackApiError as exc:
            raise PostRefusedError(_code(exc)) from exc  # nothing was posted: try again later
        except aiohttp.ClientError as exc:
            raise PostRefusedError(type(exc).__name__) from exc
        if not postable:
            raise ChannelGoneError("cannot_post_here")

    async def post_due(
        self,
        delivery: DeliveryRow,
        meeting: MeetingRow,
        *,
        channel: str,
        now: datetime,
        thread: str | None = None,
    ) -> str:
        """Post a scheduled message tagged with its delivery id; its ts. Not paced here:
        call it inside `turn(channel)`. 429s are already waited out by the client."""
        message = render_delivery(delivery, meeting, now)
        extra: dict[str, Any] = {"thread_ts": thread} if thread else {}
        try:
            with acting_for(meeting.team_id):
                response = await self._client.chat_postMessage(
                    channel=channel,
                    unfurl_links=False,
                    metadata=delivery_metadata(delivery.id),
                    **extra,
                    **message,
                )
        except SlackApiError as exc:
            # Slack answered, so nothing was posted.
            if exc.response.get("error") in NOT_IN_CHANNEL:
                self._cards.forget(channel)
                raise ChannelGoneError(_code(exc)) from exc
            raise PostRefusedError(_code(exc)) from exc
        except aiohttp.ClientError as exc:
            raise PostUnknownError(type(exc).__name__) from exc
        return str(response["ts"])

    async def find_due(
        self,
        *,
        team_id: str,
        channel: str,
        delivery_id: int,
        oldest: datetime,
        thread: str | None = None,
    ) -> str | None:
        """The ts of an earlier post of this delivery at or after `oldest`, if Slack has one.

        Thread replies are looked up with conversations.replies, channel posts with
        conversations.history; both carry metadata only with include_all_metadata.
        """
        try:
            with acting_for(team_id):
                return await self._find(
                    channel=channel, delivery_id=delivery_id, oldest=oldest, thread_ts=thread
                )
        except SlackApiError as exc:
            raise PostRefusedError(_code(exc)) from exc
        except aiohttp.ClientError as exc:
            raise PostUnknownError(type(exc).__name__) from exc

    async def _find(
        self, *, channel: str, delivery_id: int, oldest: datetime, thread_ts: str | None
    ) -> str | None:
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{oldest.timestamp():.6f}",
                "limit": HISTORY_PAGE,
                "include_all_metadata": True,
            }
            if cursor:
                args["cursor"] = cursor
            if thread_ts:
                page = await self._client.conversations_replies(ts=thread_ts, **args)
            else:
                page = await self._client.conversations_history(**args)
            for message in page.get("messages") or []:
                if isinstance(message, dict) and _delivery_id(message) == delivery_id:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        log.warning(
            "delivery %s: lookup in %s stopped after %s pages", delivery_id, channel, HISTORY_PAGES
        )
        return None

    async def show_state(self, meeting: MeetingRow) -> None:
        """Re-render the meeting's posted card (chat.update)."""
        try:
            await self._cards.update_card(meeting)
        except SlackApiError as exc:
            raise PostRefusedError(_code(exc)) from exc

    async def post_card(self, meeting: MeetingRow) -> str | None:
        """Post a card that never reached Slack; its ts, or None if the bot can't post there
        (the card then goes to the organizer by the app's DM, with how to add the bot)."""
        try:
            ts = await self._cards.post_card(meeting)
            if ts is None:
                await self._cards.direct(
                    meeting.organizer_slack_id, blocks.render_private_card(card_view(meeting))
                )
        except SlackApiError as exc:
            raise PostRefusedError(_code(exc)) from exc
        return ts
