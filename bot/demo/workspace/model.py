"""What the fake Slack is made of: teams and their members and conversations, the app and its
installations (tokens, scopes), messages and modals.

The demo fixture's IDs (team, app, bot, #general, #random …) and four members, the records, and
the Web API's error (`ApiError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from bot import config
from bot.demo.wire import SlackUser

__all__ = [
    "APP_ID",
    "BOT",
    "BOT_ID",
    "BOT_SCOPES",
    "DEMO_USERS",
    "GENERAL",
    "GROUP",
    "LEADS",
    "PLANNING",
    "RANDOM",
    "SLACKBOT",
    "TEAM_ID",
    "ApiError",
    "Channel",
    "Installation",
    "Kind",
    "Message",
    "Modal",
    "OAuthApp",
    "Team",
    "dm_id",
]

TEAM_ID: Final = "T0DEMO"
APP_ID: Final = "A0MEETBOT"
BOT_ID: Final = "B0MEETBOT"
BOT: Final = SlackUser("U0MEETBOT", TEAM_ID, "meetbot", tz="UTC", is_bot=True)
SLACKBOT: Final = SlackUser("USLACKBOT", TEAM_ID, "Slackbot", tz="UTC", is_bot=True)
GENERAL: Final = "C0GENERAL"
RANDOM: Final = "C0RANDOM"
PLANNING: Final = "C0PLANNING"
"""A private channel with the bot (Slack gives new private channels C… IDs, `is_private`)."""
LEADS: Final = "G0LEADS"
"""A private channel without the bot (an older private channel: a G… ID)."""
GROUP: Final = "G0MPIM"
"""A group DM of Ana, Bo and 陈 (without the bot)."""
BOT_SCOPES: Final = frozenset(config.BOT_SCOPES)
"""The bot scopes of manifest.yml (bot.config keeps the list): what an installation gets
unless it asks for others."""
DEMO_USERS: Final = (
    SlackUser(
        "UANA",
        TEAM_ID,
        "Ana",
        tz="America/Los_Angeles",
        email="ana@example.com",
        is_admin=True,
        is_owner=True,
    ),
    SlackUser("UBO", TEAM_ID, "Bo", tz="Europe/London", email="bo@example.com"),
    SlackUser("UCHEN", TEAM_ID, "陈", tz="Asia/Shanghai", email="chen@example.com"),
    SlackUser("UDEV", TEAM_ID, "Dev", tz="Asia/Kolkata", email="dev@example.com"),
)


class ApiError(Exception):
    """A Web API error code (`{"ok": false, "error": code, **extra}`)."""

    def __init__(self, code: str, **extra: str) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def as_answer(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}


def dm_id(user_id: str) -> str:
    """The ID of the direct-message conversation between the bot and `user_id`."""
    return f"D{user_id}"


class Kind(StrEnum):
    """Slack's conversation kinds."""

    PUBLIC = "public"
    PRIVATE = "private"
    IM = "im"
    """A DM: between two people, or the app's own DM with one person (`Channel.im_user`)."""
    MPIM = "mpim"
    """A group DM."""


HISTORY_SCOPE: Final = {
    Kind.PUBLIC: "channels:history",
    Kind.PRIVATE: "groups:history",
    Kind.IM: "im:history",
    Kind.MPIM: "mpim:history",
}
READ_SCOPE: Final = {
    Kind.PUBLIC: "channels:read",
    Kind.PRIVATE: "groups:read",
    Kind.IM: "im:read",
    Kind.MPIM: "mpim:read",
}


@dataclass(frozen=True)
class Team:
    """A workspace; `enterprise` (id, name) when it belongs to an Enterprise Grid org."""

    id: str
    name: str
    bot: SlackUser
    """The app's bot user in this team."""
    bot_id: str
    enterprise: tuple[str, str] | None = None

    @property
    def domain(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class OAuthApp:
    """The app registered with Slack: its OAuth credentials and settings."""

    client_id: str = "1111.2222"
    client_secret: str = "fake-client-secret"  # noqa: S105 -- a fixture, not a secret
    app_id: str = APP_ID
    token_rotation: bool = False
    redirect_urls: tuple[str, ...] = ()
    """The registered redirect URLs; empty: any URL is accepted."""


@dataclass
class Installation:
    """A bot token: which team (or org) it is for, with which scopes."""

    token: str
    team_id: str
    scopes: frozenset[str]
    installer: str
    enterprise_install: bool = False
    revoked: bool = False
    expires_at: float | None = None
    """With token rotation: when the access token stops working."""
    refresh_token: str | None = None


@dataclass
class Channel:
    """A conversation of one team: public or private channel, DM, group DM.

    For the app's own DM with a person `im_user` is that person; DMs between people have none.
    """

    id: str
    name: str
    members: set[str]
    im_user: str | None = None
    team_id: str = TEAM_ID
    kind: Kind = Kind.PUBLIC
    archived: bool = False

    def __post_init__(self) -> None:
        if self.im_user is not None:
            self.kind = Kind.IM

    @property
    def slash_name(self) -> str:
        """The `channel_name` Slack puts in a slash command typed here."""
        match self.kind:
            case Kind.IM:
                return "directmessage"
            case Kind.MPIM:
                return self.name
            case Kind.PRIVATE if self.id.startswith("G"):
                return "privategroup"
        return self.name

    def as_slack(self, bot_user: str) -> dict[str, Any]:
        if self.kind is Kind.IM:
            other = self.im_user or next(iter(sorted(self.members)), "")
            return {"id": self.id, "is_im": True, "user": other, "is_open": True}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": self.kind is Kind.PUBLIC,
            "is_group": self.kind is Kind.PRIVATE,
            "is_mpim": self.kind is Kind.MPIM,
            "is_im": False,
            "is_private": self.kind is not Kind.PUBLIC,
            "is_archived": self.archived,
            "is_member": bot_user in self.members,
            "context_team_id": self.team_id,
            "num_members": len(self.members),
        }


@dataclass
class Message:
    """One message; `visible_to` makes it ephemeral, `thread_ts` (≠ ts) makes it a reply."""

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    visible_to: str | None = None
    broadcast: bool = False
    edited: bool = False
    team: str = TEAM_ID
    bot_id: str | None = None
    """Set on the app's own messages."""

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def as_slack(
        self, *, replies: list[Message] | None = None, metadata: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": self.team,
        }
        if self.blocks:
            out["blocks"] = self.blocks
        if self.bot_id:
            out |= {"bot_id": self.bot_id, "app_id": APP_ID}
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.is_reply and self.broadcast:
            out["subtype"] = "thread_broadcast"
        if replies:
            out |= {
                "reply_count": len(replies),
                "reply_users": sorted({r.user for r in replies}),
                "latest_reply": replies[-1].ts,
            }
        if self.edited:
            out["edited"] = {"user": self.user, "ts": self.ts}
        if metadata and self.metadata:
            out["metadata"] = self.metadata
        return out


@dataclass
class Modal:
    """An open view: what the app sent, plus what Slack adds (id, hash, state)."""

    view: dict[str, Any]
    user: str
    errors: dict[str, str] = field(default_factory=dict)
