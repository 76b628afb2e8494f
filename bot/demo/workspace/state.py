"""The fake Slack's state: its teams and their members and conversations, the app's installations
(tokens and scopes), what was said where, which views, calls, triggers and response_urls are open.

`version` moves on every change, so the demo page knows to fetch its view again; the Web API
(`bot.demo.workspace.web_api`) and the emulator (`bot.demo.emulator`) change it.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from bot.demo.wire import SlackUser
from bot.demo.workspace.model import (
    BOT,
    BOT_ID,
    BOT_SCOPES,
    DEMO_USERS,
    GENERAL,
    GROUP,
    LEADS,
    PLANNING,
    RANDOM,
    SLACKBOT,
    TEAM_ID,
    ApiError,
    Channel,
    Installation,
    Kind,
    Message,
    Modal,
    OAuthApp,
    Team,
    dm_id,
)

__all__ = ["ResponseUrl", "Workspace", "with_block_ids"]

TRIGGER_SECONDS: Final = 3.0
"""A trigger_id opens a modal only within 3 seconds of the interaction, and only once."""
RESPONSE_URL_SECONDS: Final = 30 * 60
RESPONSE_URL_USES: Final = 5
"""A response_url takes at most 5 posts within 30 minutes."""


@dataclass
class ResponseUrl:
    """Where a response_url's messages go, and how often it was used."""

    channel: str
    user: str
    message_ts: str | None
    thread_ts: str | None
    issued: float
    uses: int = 0


@dataclass
class Workspace:
    """Everything the fake Slack holds (one or more teams); `version` moves on every change."""

    users: dict[str, SlackUser]
    channels: dict[str, Channel]
    teams: dict[str, Team] = field(default_factory=dict)
    app: OAuthApp = field(default_factory=OAuthApp)
    installations: dict[str, Installation] = field(default_factory=dict)
    """Bot token -> its installation (revoked ones stay, to answer `token_revoked`)."""
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    """OAuth code -> what was approved (team, user, scopes, redirect_uri, issued, org)."""
    messages: list[Message] = field(default_factory=list)
    modals: dict[str, list[Modal]] = field(default_factory=dict)
    """User ID -> their stack of open views (the last one shows)."""
    triggers: dict[str, tuple[str, float]] = field(default_factory=dict)
    """trigger_id -> (user ID, when it was issued); exchanged ones move to `used_triggers`."""
    used_triggers: set[str] = field(default_factory=set)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    clock: Callable[[], float] = time.time
    _last_ts: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def demo(cls, clock: Callable[[], float] = time.time) -> Workspace:
        """The demo fixture: team T0DEMO with four members; #general (with the bot), #random
        (without), a private channel with the bot and one without, a group DM, DMs between
        people."""
        people = [u.id for u in DEMO_USERS]
        ana, bo, chen, _dev = people
        ws = cls(users={}, channels={}, clock=clock)
        ws.add_team(Team(TEAM_ID, "meetbot demo", BOT, BOT_ID), SLACKBOT, *DEMO_USERS)
        ws.add_channel(GENERAL, "general", {*people, BOT.id})
        ws.add_channel(RANDOM, "random", set(people))
        ws.add_channel(PLANNING, "planning", {ana, bo, BOT.id}, kind=Kind.PRIVATE)
        ws.add_channel(LEADS, "leads", {ana, chen}, kind=Kind.PRIVATE)
        ws.add_channel(GROUP, "", {ana, bo, chen}, kind=Kind.MPIM)
        for a, b in itertools.combinations(people, 2):
            ws.add_channel(f"D{a[1:]}{b[1:]}", "", {a, b}, kind=Kind.IM)
        return ws

    # --- teams, members, conversations ---------------------------------------------------------

    def add_team(self, team: Team, *members: SlackUser) -> None:
        self.teams[team.id] = team
        for user in (team.bot, *members):
            self.users[user.id] = user

    def add_channel(
        self, channel_id: str, name: str, members: Iterable[str], *, kind: Kind = Kind.PUBLIC
    ) -> Channel:
        """A conversation of the team of its first member (an MPIM is named as Slack names it)."""
        members = set(members)
        team = self.users[min(members)].team_id
        if kind is Kind.MPIM and not name:
            handles = sorted(self.users[m].name.lower() for m in members)
            name = "mpdm-" + "--".join(handles) + "-1"
        self.channels[channel_id] = Channel(channel_id, name, members, team_id=team, kind=kind)
        self.changed()
        return self.channels[channel_id]

    def bot_of(self, team_id: str) -> SlackUser:
        return self.teams[team_id].bot

    def changed(self) -> None:
        self.version += 1

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def next_ts(self) -> str:
        """A message ts: seconds.micro, unique and increasing like Slack's."""
        self._last_ts = max(round(self.clock(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def people(self, team_id: str = TEAM_ID) -> list[SlackUser]:
        return [u for u in self.users.values() if not u.is_bot and u.team_id == team_id]

    def person(self, user_id: str) -> SlackUser:
        """A member who is a person (not a bot); ApiError user_not_found for anyone else."""
        user = self.users.get(user_id)
        if user is None or user.is_bot:
            raise ApiError("user_not_found")
        return user

    def channel(self, channel_id: str) -> Channel:
        """A conversation by ID; a person's user ID means the app's DM with them."""
        if channel_id in self.users and not self.users[channel_id].is_bot:
            return self.open_dm(channel_id)
        found = self.channels.get(channel_id)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def open_dm(self, user_id: str) -> Channel:
        """The app's DM with a person (opened on first use)."""
        cid = dm_id(user_id)
        if cid not in self.channels:
            user = self.users[user_id]
            bot = self.bot_of(user.team_id)
            self.channels[cid] = Channel(
                cid, user.name, {user_id, bot.id}, user_id, team_id=user.team_id
            )
        return self.channels[cid]

    # --- the app's installations ---------------------------------------------------------------

    def install(
        self,
        team_id: str,
        *,
        installer: str,
        scopes: Iterable[str] = BOT_SCOPES,
        token: str | None = None,
        enterprise_install: bool = False,
    ) -> Installation:
        """Install the app into a team (or its whole org); a re-install revokes the old token."""
        for old in self.installations.values():
            if old.team_id == team_id and not old.revoked:
                old.revoked = True
        rotation = self.app.token_rotation
        prefix = "xoxe.xoxb-" if rotation else "xoxb-"
        token = token or f"{prefix}{team_id}-{secrets.token_hex(12)}"
        installation = Installation(
            token=token,
            team_id=team_id,
            scopes=frozenset(scopes),
            installer=installer,
            enterprise_install=enterprise_install,
            expires_at=self.clock() + 43200 if rotation else None,
            refresh_token=f"xoxe-1-{secrets.token_hex(16)}" if rotation else None,
        )
        self.installations[token] = installation
        return installation

    def teams_of(self, installation: Installation) -> frozenset[str]:
        """The teams a token sees: its team, or every team of its org for an org-wide install."""
        org = self.teams[installation.team_id].enterprise
        if installation.enterprise_install and org is not None:
            return frozenset(t.id for t in self.teams.values() if t.enterprise == org)
        return frozenset({installation.team_id})

    # --- messages ------------------------------------------------------------------------------

    def find(self, channel_id: str, ts: str) -> Message | None:
        return next((m for m in self.messages if m.channel == channel_id and m.ts == ts), None)

    def replies(self, parent: Message) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.channel == parent.channel
            and m.is_reply
            and m.thread_ts == parent.ts
            and m.visible_to is None
        ]

    def post(
        self,
        channel: Channel,
        user: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        visible_to: str | None = None,
        metadata: dict[str, Any] | None = None,
        broadcast: bool = False,
    ) -> Message:
        if thread_ts:
            parent = self.find(channel.id, thread_ts)
            if parent is None:
                raise ApiError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts  # a reply to a reply joins the thread
            if parent.thread_ts is None:
                parent.thread_ts = parent.ts
        team = self.teams.get(channel.team_id)
        message = Message(
            ts=self.next_ts(),
            channel=channel.id,
            user=user,
            text=text,
            blocks=with_block_ids(blocks or [], self),
            thread_ts=thread_ts,
            metadata=metadata,
            visible_to=visible_to,
            broadcast=broadcast,
            team=channel.team_id,
            bot_id=team.bot_id if team is not None and user == team.bot.id else None,
        )
        self.messages.append(message)
        self.changed()
        return message

    # --- triggers and response_urls ------------------------------------------------------------

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id for an interaction of `user_id`, in Slack's shape."""
        trigger = f"{int(self.clock())}.{self.next_id('')}.{secrets.token_hex(16)}"
        self.triggers[trigger] = (user_id, self.clock())
        return trigger

    def exchange_trigger(self, trigger_id: str) -> str:
        """The user of a trigger_id, used up; ApiError as views.open answers otherwise."""
        if trigger_id in self.used_triggers:
            raise ApiError("exchanged_trigger_id")
        issued = self.triggers.pop(trigger_id, None)
        if issued is None:
            raise ApiError("invalid_trigger_id")
        self.used_triggers.add(trigger_id)
        user_id, at = issued
        if self.clock() - at > TRIGGER_SECONDS:
            raise ApiError("expired_trigger_id")
        return user_id

    def issue_response_url(
        self,
        rid: str,
        *,
        channel: str,
        user: str,
        message_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        self.response_urls[rid] = ResponseUrl(channel, user, message_ts, thread_ts, self.clock())

    def use_response_url(self, rid: str) -> ResponseUrl:
        """Count one post to response_url `rid`; ApiError (`expired_url`, `used_url`,
        `no_such_url`) when Slack refuses it."""
        target = self.response_urls.get(rid)
        if target is None:
            raise ApiError("no_such_url")
        if self.clock() - target.issued > RESPONSE_URL_SECONDS:
            raise ApiError("expired_url")
        if target.uses >= RESPONSE_URL_USES:
            raise ApiError("used_url")
        target.uses += 1
        return target

    # --- views ---------------------------------------------------------------------------------

    def top_modal(self, user_id: str) -> Modal | None:
        stack = self.modals.get(user_id)
        return stack[-1] if stack else None

    def close_modals(self, user_id: str, *, all_of_them: bool = False) -> None:
        stack = self.modals.get(user_id, [])
        if stack:
            del stack[0 if all_of_them else -1 :]
            self.changed()


def with_block_ids(blocks: list[dict[str, Any]], workspace: Workspace) -> list[dict[str, Any]]:
    """Slack gives every block without a block_id one of its own."""
    return [
        b
        if "block_id" in b or not isinstance(b, dict)
        else {**b, "block_id": workspace.next_id("b")}
        for b in blocks
    ]
