"""Posting and updating meetbot's Slack messages: cards, host details, invitations (the
scheduler's posts: bot.slack.poster), and the Web API client they go through; whether the bot
can post in a conversation (`decide_reach`, pure, and `Notifier.reach`, the probe).

The Web API client carries slack_sdk's retry handlers, so 429 answers are waited out
(Retry-After) and dropped connections retried before anything here sees an error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
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
    "Conversation",
    "Notifier",
    "Reach",
    "WebClients",
    "card_view",
    "decide_reach",
    "is_slack_response_url",
    "web_client",
    "web_clients",
]

log = logging.getLogger(__name__)

NOT_IN_CHANNEL: Final = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
CANNOT_JOIN: Final = NOT_IN_CHANNEL | frozenset(
    {"method_not_supported_for_channel_type", "restricted_action"}
)
"""conversations.info / conversations.join answers that mean the bot cannot post there: any
other refusal (ratelimited, internal_error, …) says nothing about the conversation."""
SLACK_HOOKS_HOST: Final = "hooks.slack.com"
CANNOT_DM: Final = frozenset(
    {"user_not_found", "user_disabled", "cannot_dm_bot", "user_not_visible", "channel_not_found"}
)
"""conversations.open answers that mean this person cannot be messaged at all."""


class Reach(StrEnum):
    """Whether the bot can post in a conversation (and read back its own posts there)."""

    POST = "post"
    """A member: post there (history readable with the matching *:history scope)."""
    JOIN = "join"
    """A public channel it is not in: conversations.join first, then post."""
    PEOPLE = "people"
    """It cannot (a private channel without it, a DM between people, a group DM): reach
    the people by the app's DM instead."""


@dataclass(frozen=True, slots=True)
class Conversation:
    """What conversations.info told about a conversation (its `channel` object), or that
    it refused (`error`: channel_not_found when the bot cannot see it, …)."""

    error: str | None = None
    is_member: bool = False
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_archived: bool = False

    @classmethod
    def from_info(cls, channel: dict[str, Any]) -> Conversation:
        return cls(
            is_member=channel.get("is_member") is True,
            is_private=channel.get("is_private") is True,
            is_im=channel.get("is_im") is True,
            is_mpim=channel.get("is_mpim") is True,
            is_archived=channel.get("is_archived") is True,
        )


def decide_reach(conversation: Conversation) -> Reach:
    """Where the bot's posts for a conversation go, from what Slack told about it.

    A bot token sees a DM only if it is the app's own DM with someone, so a visible IM is
    postable. A group DM never is (the app's DM reaches the same people and its history is
    readable with im:history alone). An archived channel or one the bot cannot see takes
    nothing. A public channel it is not in is joined; so is one it may not look at (an install
    without the *:read scopes), which then posts as before if it may not join either."""
    if conversation.error == "missing_scope":
        return Reach.JOIN  # an install that has not granted the *:read scopes yet
    if conversation.error is not None or conversation.is_archived or conversation.is_mpim:
        return Reach.PEOPLE
    if conversation.is_im or conversation.is_member:
        return Reach.POST
    if conversation.is_private:
        return Reach.PEOPLE
    return Reach.JOIN


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
        self._postable: set[str] = set()
        """Conversations this process found postable (joined, if public)."""
        self._dms: dict[str, str] = {}
        """User ID -> the app's DM channel with them."""

    async def reach(self, channel: str) -> bool:
        """Whether the bot can post in `channel`; a public channel is joined first, so the
        bot can read back its own posts there (the after-crash look-up). SlackApiError when
        Slack did not say (a rate limit, an outage): nothing is concluded from that."""
        if channel in self._postable:
            return True
        try:
            info = await self._client.conversations_info(channel=channel)
            found = info.get("channel")
            conversation = Conversation.from_info(found if isinstance(found, dict) else {})
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "slack_error")
            if error not in CANNOT_JOIN and error != "missing_scope":
                raise  # Slack could not answer now (rate limit, outage): ask again later
            conversation = Conversation(error=error)
        reach = decide_reach(conversation)
        if reach is Reach.JOIN:
            try:
                await self._client.conversations_join(channel=channel)
            except SlackApiError as exc:
                error = str(exc.response.get("error") or "slack_error")
                log.info("cannot join %s: %s", channel, error)
                if error in CANNOT_JOIN:
                    return False
                if error != "missing_scope":
                    raise
                # An install without channels:join posts as before (chat:write.public); a
                # refusal then sends the card privately and the notices by DM.
            reach = Reach.POST
        if reach is Reach.POST:
            self._postable.add(channel)
        return reach is Reach.POST

    def forget(self, channel: str) -> None:
        """Slack refused a post in `channel`: probe it again next time."""
        self._postable.discard(channel)

    async def post_card(self, meeting: MeetingRow) -> str | None:
        """Post the meeting's card in its channel; its ts, or None if the bot can't post there."""
        channel = meeting.channel_id
        if not channel:
            return None
        with acting_for(meeting.team_id):
            if not await self.reach(channel):
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
                    self.forget(channel)
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

    async def respond(self, response_url: str, message: dict[str, Any]) -> None:
        """Answer through a response_url, ephemeral unless the message says otherwise.

        Bolt's `respond` opens a new HTTP session per answer; this reuses the client's.
        Raises ValueError for a URL Slack could not have issued, aiohttp.ClientError when
        the post fails (an expired URL, one used too often).
        """
        if not is_slack_response_url(response_url, api_url=self._client.base_url):
            # Only Slack hands out response URLs; anything else would make us post the
            # organizer's host link to a stranger's server.
            raise ValueError("not a Slack response_url")
        body = {"response_type": "ephemeral", "replace_original": False, **message}
        session = self._client.session
        if session is None:
            async with (
                aiohttp.ClientSession() as own,
                own.post(response_url, json=body) as answer,
            ):
                answer.raise_for_status()
            return
        async with session.post(response_url, json=body) as answer:
            answer.raise_for_status()

    async def dm_channel(self, user_id: str) -> str:
        """The app's DM with `user_id` (conversations.open; remembered)."""
        channel = self._dms.get(user_id)
        if channel is None:
            opened = await self._client.conversations_open(users=user_id)
            channel = self._dms[user_id] = str(opened["channel"]["id"])
        return channel

    async def direct(self, user_id: str, message: dict[str, Any]) -> None:
        """A direct message from the app to `user_id`, in the app's DM with them."""
        channel = await self.dm_channel(user_id)
        await self._client.chat_postMessage(channel=channel, unfurl_links=False, **message)
