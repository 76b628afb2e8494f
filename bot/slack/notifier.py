"""Posting and updating meetbot's Slack messages: cards, host details, invitations.

The Web API client carries slack_sdk's retry handlers, so 429 answers are waited out
(Retry-After) and dropped connections retried before anything here sees an error.
"""

from __future__ import annotations

import logging
from typing import Any, Final

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

__all__ = ["Notifier", "card_view", "web_client"]

log = logging.getLogger(__name__)

NOT_IN_CHANNEL: Final = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def web_client(
    token: str, base_url: str, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client: waits out 429s and retries dropped connections.

    Pass a long-lived `session`: without one slack_sdk opens a new connection per call.
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        ],
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
    )


class Notifier:
    """Delivers rendered messages through the Web API."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post_card(self, meeting: MeetingRow) -> str | None:
        """Post the meeting's card in its channel; its ts, or None if the bot can't post there."""
        if not meeting.channel_id:
            return None
        message = blocks.render_card(card_view(meeting))
        try:
            response = await self._client.chat_postMessage(
                channel=meeting.channel_id, unfurl_links=False, **message
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
