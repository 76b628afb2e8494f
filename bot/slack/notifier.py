"""Posting and updating meetbot's Slack messages: cards, host details, invitations, and the
scheduler's deliveries (tagged with their delivery id in message metadata, paced per channel).

The Web API client carries slack_sdk's retry handlers, so 429 answers are waited out
(Retry-After) and dropped connections retried before anything here sees an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import blocks
from bot.slack.blocks import CardState, CardView
from storage.repo import MeetingRow

__all__ = [
    "DELIVERY_EVENT",
    "ChannelPacer",
    "Notifier",
    "card_view",
    "delivery_metadata",
    "is_slack_response_url",
    "web_client",
]

log = logging.getLogger(__name__)

NOT_IN_CHANNEL: Final = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
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


SLACK_HOOKS_HOST: Final = "hooks.slack.com"


def is_slack_response_url(url: str, *, api_url: str) -> bool:
    """Whether `url` is one Slack could have issued: https://hooks.slack.com/…, or on the
    configured Slack API's own origin (a local emulator in tests and the demo)."""
    try:
        target, api = urlsplit(url), urlsplit(api_url)
        where = (target.scheme, target.hostname, target.port)
        configured = (api.scheme, api.hostname, api.port)
    except ValueError:
        return False
    if target.username is not None or target.scheme not in ("http", "https"):
        return False
    return where in (("https", SLACK_HOOKS_HOST, None), configured)


def web_client(
    token: str,
    base_url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    retry_connection_errors: bool = True,
) -> AsyncWebClient:
    """The Web API client: waits out 429s and retries dropped connections.

    Pass a long-lived `session`: without one slack_sdk opens a new connection per call.
    `retry_connection_errors=False` is for the scheduler: a post retried blindly after a
    dropped connection could be posted twice; it finds out through message metadata instead.
    """
    handlers: list[Any] = [AsyncRateLimitErrorRetryHandler(max_retry_count=5)]
    if retry_connection_errors:
        handlers.insert(0, AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return AsyncWebClient(
        token=token, base_url=base_url, session=session, timeout=10, retry_handlers=handlers
    )


def card_view(meeting: MeetingRow, *, cancelled_by: str | None = None) -> CardView:
    """How a stored meeting looks on its card."""
    return CardView(
        meeting_id=meeting.id,
        conference_id=meeting.conference_id,
        topic=meeting.topic,
        organizer_id=meeting.organizer_slack_id,
        start=meeting.start_at,
        duration_minutes=meeting.duration_minutes,
        join_url=meeting.guest_join_url or "",
        state=CardState(meeting.state),
        recurrence_text=str(meeting.recurrence.get("text", "")) if meeting.recurrence else None,
        invitee_ids=tuple(meeting.invitees),
        participant_count=meeting.participant_count,
        ended_duration_minutes=(
            int((meeting.ended_at - meeting.started_at).total_seconds() // 60)
            if meeting.ended_at and meeting.started_at
            else None
        ),
        cancelled_by=cancelled_by,
        instant=meeting.is_instant,
        call_id=meeting.slack_call_id,
    )


CardHook = Callable[[MeetingRow], Awaitable[MeetingRow]]


class Notifier:
    """Delivers rendered messages through the Web API."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pacer: ChannelPacer | None = None,
        prepare_card: CardHook | None = None,
    ) -> None:
        self._client = client
        self._pacer = pacer or ChannelPacer()
        self._prepare_card = prepare_card
        """Run on a meeting just before its card is first posted (Slack Calls attaches here)."""

    def paced(self, channel: str) -> AbstractAsyncContextManager[None]:
        """`async with notifier.paced(channel):` waits for the channel's next posting slot."""
        return self._pacer.turn(channel)

    async def post_delivery(
        self,
        *,
        channel: str,
        message: dict[str, Any],
        delivery_id: int,
        thread_ts: str | None = None,
    ) -> str:
        """Post a scheduled message tagged with its delivery id; its ts. Not paced here:
        call it inside `paced(channel)`. Raises SlackApiError (429s already waited out)."""
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        response = await self._client.chat_postMessage(
            channel=channel,
            unfurl_links=False,
            metadata=delivery_metadata(delivery_id),
            **extra,
            **message,
        )
        return str(response["ts"])

    async def find_delivery(
        self,
        *,
        channel: str,
        delivery_id: int,
        oldest: datetime,
        thread_ts: str | None = None,
    ) -> str | None:
        """The ts of an earlier post of this delivery at or after `oldest`, if Slack has one.

        Thread replies are looked up with conversations.replies, channel posts with
        conversations.history; both carry metadata only with include_all_metadata.
        """
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

    async def post_card(self, meeting: MeetingRow) -> str | None:
        """Post the meeting's card in its channel; its ts, or None if the bot can't post there."""
        channel = meeting.channel_id
        if not channel:
            return None
        if self._prepare_card is not None:
            meeting = await self._prepare_card(meeting)
        message = blocks.render_card(card_view(meeting))
        try:
            response = await self._client.chat_postMessage(
                channel=channel, unfurl_links=False, **message
            )
        except SlackApiError as exc:
            if exc.response.get("error") in NOT_IN_CHANNEL:
                return None
            raise
        return str(response["ts"])

    async def update_card(self, meeting: MeetingRow, *, cancelled_by: str | None = None) -> None:
        """Re-render a posted card (state changes, cancellation)."""
        if not meeting.message_ts or not meeting.channel_id:
            return
        message = blocks.render_card(card_view(meeting, cancelled_by=cancelled_by))
        await self._client.chat_update(channel=meeting.channel_id, ts=meeting.message_ts, **message)

    async def ephemeral(self, *, channel_id: str, user_id: str, message: dict[str, Any]) -> None:
        """A message only `user_id` sees, in `channel_id`."""
        await self._client.chat_postEphemeral(channel=channel_id, user=user_id, **message)

    async def respond(self, response_url: str, message: dict[str, Any]) -> None:
        """Answer through a response_url, ephemeral unless the message says otherwise.

        Bolt's `respond` opens a new HTTP session per answer; this reuses the client's.
        """
        if not is_slack_response_url(response_url, api_url=self._client.base_url):
            # Only Slack hands out response URLs; anything else would make us post the
            # organizer's host link to a stranger's server.
            log.warning("refused to answer through a response_url that is not Slack's")
            return
        body = {"response_type": "ephemeral", "replace_original": False, **message}
        session = self._client.session
        if session is None:
            async with aiohttp.ClientSession() as session, session.post(response_url, json=body):
                return
        async with session.post(response_url, json=body) as answer:
            answer.raise_for_status()

    async def direct(self, user_id: str, message: dict[str, Any]) -> None:
        """A direct message from the bot to `user_id`."""
        opened = await self._client.conversations_open(users=user_id)
        channel = opened["channel"]["id"]
        await self._client.chat_postMessage(channel=channel, unfurl_links=False, **message)
