"""Posting and updating meetbot's Slack messages: cards, host details, invitations (the
scheduler's posts: bot.slack.poster), and the Web API client they go through.

The Web API client carries slack_sdk's retry handlers, so 429 answers are waited out
(Retry-After) and dropped connections retried before anything here sees an error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.service.ports import MeetingRow
from bot.slack import blocks
from bot.slack.blocks import CardState, CardView
from bot.slack.installs import TeamTokens, TeamWebClient, acting_for

__all__ = [
    "NOT_IN_CHANNEL",
    "CardHook",
    "Notifier",
    "WebClients",
    "card_view",
    "is_slack_response_url",
    "web_client",
    "web_clients",
]

log = logging.getLogger(__name__)

NOT_IN_CHANNEL: Final = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
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
    token: str | TeamTokens,
    base_url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    retry_connection_errors: bool = True,
) -> AsyncWebClient:
    """The Web API client: waits out 429s and retries dropped connections. With one `token`
    it calls as that workspace; with `TeamTokens` (OAuth mode) as the team it acts for.

    Pass a long-lived `session`: without one slack_sdk opens a new connection per call.
    `retry_connection_errors=False` is for the scheduler's posts (bot.slack.poster): a post
    retried blindly after a dropped connection could be posted twice; it finds out through
    message metadata instead.
    """
    handlers: list[Any] = [AsyncRateLimitErrorRetryHandler(max_retry_count=5)]
    if retry_connection_errors:
        handlers.insert(0, AsyncConnectionErrorRetryHandler(max_retry_count=2))
    options: dict[str, Any] = {
        "base_url": base_url,
        "session": session,
        "timeout": 10,
        "retry_handlers": handlers,
    }
    if isinstance(token, TeamTokens):
        return TeamWebClient(token, **options)
    return AsyncWebClient(token=token, **options)


@dataclass(frozen=True, slots=True)
class WebClients:
    """A process's Web API clients, sharing one HTTP session."""

    answers: AsyncWebClient
    """For answers, cards and lookups of users: retries dropped connections."""
    posts: AsyncWebClient
    """For the scheduler's posts: does not (see `web_client`)."""


@asynccontextmanager
async def web_clients(token: str | TeamTokens, base_url: str) -> AsyncIterator[WebClients]:
    """Open the process's HTTP session to Slack and its two clients; close it on exit."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield WebClients(
            answers=web_client(token, base_url, session=session),
            posts=web_client(token, base_url, session=session, retry_connection_errors=False),
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
        prepare_card: CardHook | None = None,
    ) -> None:
        self._client = client
        self._prepare_card = prepare_card
        """Run on a meeting just before its card is first posted (Slack Calls attaches here)."""

    async def post_card(self, meeting: MeetingRow) -> str | None:
        """Post the meeting's card in its channel; its ts, or None if the bot can't post there."""
        channel = meeting.channel_id
        if not channel:
            return None
        with acting_for(meeting.team_id):
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
        with acting_for(meeting.team_id):
            await self._client.chat_update(
                channel=meeting.channel_id, ts=meeting.message_ts, **message
            )

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
