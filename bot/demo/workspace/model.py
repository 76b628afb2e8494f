"""What the demo workspace is made of: its members and conversations, messages and modals.

The fixture's IDs (team, app, bot, #general, #random) and four members, the conversation,
message and open-view records, and the Web API's error (`ApiError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from bot.demo.wire import SlackUser

__all__ = [
    "APP_ID",
    "BOT",
    "BOT_ID",
    "DEMO_USERS",
    "GENERAL",
    "RANDOM",
    "SLACKBOT",
    "TEAM_ID",
    "ApiError",
    "Channel",
    "Message",
    "Modal",
    "dm_id",
]

TEAM_ID: Final = "T0DEMO"
APP_ID: Final = "A0MEETBOT"
BOT_ID: Final = "B0MEETBOT"
BOT: Final = SlackUser("U0MEETBOT", TEAM_ID, "meetbot", tz="UTC", is_bot=True)
SLACKBOT: Final = SlackUser("USLACKBOT", TEAM_ID, "Slackbot", tz="UTC", is_bot=True)
GENERAL: Final = "C0GENERAL"
RANDOM: Final = "C0RANDOM"
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
    """A Web API error code (`{"ok": false, "error": code}`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def dm_id(user_id: str) -> str:
    """The ID of the direct-message conversation between the bot and `user_id`."""
    return f"D{user_id}"


@dataclass
class Channel:
    """A conversation: a channel, or the bot's DM with one member (`im_user`)."""

    id: str
    name: str
    members: set[str]
    im_user: str | None = None

    def as_slack(self) -> dict[str, Any]:
        if self.im_user:
            return {"id": self.id, "is_im": True, "user": self.im_user, "is_open": True}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_member": BOT.id in self.members,
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
            "team": TEAM_ID,
        }
        if self.blocks:
            out["blocks"] = self.blocks
        if self.user == BOT.id:
            out |= {"bot_id": BOT_ID, "app_id": APP_ID}
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
