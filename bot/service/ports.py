"""What the service is given and hands back across its edges: who asked (`Invocation`), who a
chat user is (`Profile`, from a `Directory`), the recorded rows it returns, the vendor's
pushed events as they mean to it (`MeetingPush`, `PushKind`), and what the scheduler needs
from a chat platform to post (`ChatPoster`, with its outcomes `PostError` …)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.huawei.errors import MeetingServiceError
from bot.huawei.webhook import MeetingPush, PushKind
from storage.repo import REMINDER_PREFIX, ClaimedDelivery, DeliveryRow, MeetingRow

__all__ = [
    "REMINDER_PREFIX",
    "ChannelGoneError",
    "ChatPoster",
    "ClaimedDelivery",
    "DeliveryRow",
    "Directory",
    "Invocation",
    "MeetingPush",
    "MeetingRow",
    "MeetingServiceError",
    "PostError",
    "PostRefusedError",
    "PostUnknownError",
    "Profile",
    "PushKind",
]


@dataclass(frozen=True, slots=True)
class Profile:
    """What the chat platform says about a user."""

    user_id: str
    team_id: str
    name: str
    tz: str | None = None
    email: str | None = None
    is_admin: bool = False
    is_bot: bool = False
    teams: tuple[str, ...] = ()
    """Every workspace the user belongs to (Enterprise Grid); `team_id` alone otherwise."""

    def admin_of(self, team_id: str) -> bool:
        """An admin or owner of `team_id` itself: a Slack Connect stranger's rights in their
        own organization count for nothing here."""
        return self.is_admin and team_id in (self.team_id, *self.teams)


class Directory(Protocol):
    """Who a chat user is (Slack: users.info). `fresh` skips any cache (for rights checks)."""

    async def profile(
        self, *, team_id: str, user_id: str, fresh: bool = False
    ) -> Profile | None: ...


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who asked, where."""

    team_id: str
    user_id: str
    channel_id: str


class PostError(Exception):
    """A post, look-up or card update that did not happen as asked. `reason` is one short
    word for the log and the delivery row: the platform's error code, or the kind of
    transport failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PostRefusedError(PostError):
    """The platform answered with an error: nothing was posted."""


class ChannelGoneError(PostRefusedError):
    """Refused for good: the bot cannot post there (not a member, channel gone or archived)."""


class PostUnknownError(PostError):
    """No answer (a dropped connection): the post may or may not have happened."""


class ChatPoster(Protocol):
    """What the scheduler needs from a chat platform (Slack: `bot.slack.poster`).

    Channels and messages are named by the platform's own ids: `channel` is where a post
    goes, `thread` the message (a meeting's card) a post replies under, None for a post of
    its own. A scheduled post is tagged with its delivery id, so that after a post of unknown
    outcome `find_due` finds it instead of it being posted twice. Besides the errors named
    below, any call may raise TimeoutError (no answer in time: outcome unknown).
    """

    def turn(self, channel: str) -> AbstractAsyncContextManager[None]:
        """`async with poster.turn(channel):` waits for the channel's next posting slot
        (pacing); the slot is used when the block exits."""

    async def direct_channel(self, user_id: str) -> str:
        """The app's own DM with `user_id` (opened if need be), where a message for one person
        goes and where the app can read its own history. Raises ChannelGoneError (that person
        cannot be messaged), PostRefusedError or PostUnknownError."""

    async def ensure_postable(self, channel: str, *, team_id: str) -> None:
        """Make sure the app can post in the conversation `channel` and read its own posts
        there (Slack: join a public channel). Raises ChannelGoneError (it never can: send to
        people instead) or PostRefusedError (the platform did not say; nothing was posted)."""

    async def find_due(
        self,
        *,
        team_id: str,
        channel: str,
        delivery_id: int,
        oldest: datetime,
        thread: str | None = None,
    ) -> str | None:
        """The message id of an earlier post of this delivery at or after `oldest` in the
        workspace `team_id`, if the platform has one. Raises PostError."""

    async def post_due(
        self,
        delivery: DeliveryRow,
        meeting: MeetingRow,
        *,
        channel: str,
        now: datetime,
        thread: str | None = None,
    ) -> str:
        """Post a claimed delivery as of `now` (not paced here: call it inside `turn`),
        tagged with its id; its message id. Raises ChannelGoneError, PostRefusedError or
        PostUnknownError."""

    async def show_state(self, meeting: MeetingRow) -> None:
        """Re-render the meeting's posted card in its current state. Raises PostRefusedError."""

    async def post_card(self, meeting: MeetingRow) -> str | None:
        """Post the meeting's card in its channel; its message id, or None if the bot cannot
        post there (the card then went privately to the organizer). Raises PostRefusedError."""
