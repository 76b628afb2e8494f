"""What the demo page shows a person: their sidebar with unread counts -- a picker of where to
type /meet, every kind of conversation, each saying whether meetbot is in it -- the open
conversation's messages and threads rendered to HTML (`bot.demo.render`), and their top modal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.demo.render import Viewer, render_message, render_view
from bot.demo.wire import SlackUser
from bot.demo.workspace import BOT, Channel, Kind, Message, Modal, Workspace

__all__ = ["PageView"]

HINTS: Final = {
    ("public", True): "meetbot is in this channel: its cards are posted here.",
    ("public", False): "meetbot is not in this channel; it may still post in public channels.",
    ("private", True): "A private channel meetbot was added to.",
    ("private", False): "A private channel without meetbot: Slack keeps it from posting here.",
    ("im", False): "A DM between people: meetbot cannot post here.",
    ("mpim", False): "A group DM: meetbot cannot post here.",
    ("app", True): "meetbot's own DM with you.",
}
"""What each place means for /meet, by (kind, whether meetbot is a member)."""


class PageView:
    """The page's view of the workspace `ws`, per person; remembers what each has read."""

    def __init__(self, ws: Workspace, *, clock: Callable[[], float] = time.time) -> None:
        self.ws = ws
        self._clock = clock
        self._read: dict[tuple[str, str], float] = {}

    def viewer(self, user: SlackUser) -> Viewer:
        return Viewer(
            user_id=user.id,
            tz=ZoneInfo(user.tz),
            now=datetime.fromtimestamp(self._clock(), UTC),
            names={u.id: u.name for u in self.ws.users.values()},
            people={u.id: u.name for u in self.ws.people()},
            channels={c.id: c.name for c in self.ws.channels.values()},
            calls=self.ws.calls,
        )

    def _sidebar(self, user: SlackUser) -> list[Channel]:
        dm = self.ws.open_dm(user.id)
        rooms = [c for c in self.ws.channels.values() if not c.im_user and user.id in c.members]
        return [*rooms, dm]

    def _place(self, channel: Channel, user: SlackUser) -> dict[str, Any]:
        """A sidebar entry: its kind, label, whether meetbot is in it and what that means."""
        kind = "app" if channel.im_user else str(channel.kind)
        others = sorted(
            self.ws.users[m].name
            for m in channel.members
            if m != user.id and m in self.ws.users and not self.ws.users[m].is_bot
        )
        match channel.kind:
            case Kind.IM if channel.im_user:
                label = BOT.name
            case Kind.IM | Kind.MPIM:
                label = ", ".join(others)
            case _:
                label = channel.name
        bot = BOT.id in channel.members
        return {
            "id": channel.id,
            "name": channel.name,
            "kind": kind,
            "dm": kind == "app",
            "bot": bot,
            "label": label,
            "hint": HINTS.get((kind, bot), ""),
        }

    def _visible(self, message: Message, user_id: str) -> bool:
        return message.visible_to in (None, user_id)

    def _render(self, message: Message, viewer: Viewer) -> dict[str, Any]:
        author = self.ws.users.get(message.user)
        html = render_message(
            author=author.name if author else message.user,
            is_bot=message.user == BOT.id,
            ts=message.ts,
            text=message.text,
            blocks=message.blocks,
            ephemeral=message.visible_to is not None,
            edited=message.edited and message.user != BOT.id,
            viewer=viewer,
        )
        return {"ts": message.ts, "html": html, "ephemeral": message.visible_to is not None}

    def page_state(self, user_id: str, channel_id: str) -> dict[str, Any]:
        """Everything the page shows to `user_id` with `channel_id` open."""
        user = self.ws.person(user_id)
        viewer = self.viewer(user)
        sidebar = self._sidebar(user)
        channel = next((c for c in sidebar if c.id == channel_id), sidebar[0])
        items = []
        for message in self.ws.messages:
            if message.channel != channel.id or not self._visible(message, user.id):
                continue
            if message.is_reply and not message.broadcast:
                continue
            shown = self._render(message, viewer)
            replies = [
                r
                for r in self.ws.messages
                if r.channel == channel.id
                and r.is_reply
                and r.thread_ts == message.ts
                and self._visible(r, user.id)
            ]
            shown["replies"] = (
                [] if message.is_reply else [self._render(r, viewer) for r in replies]
            )
            items.append(shown)
        latest = max((float(m.ts) for m in self.ws.messages if m.channel == channel.id), default=0)
        self._read[(user.id, channel.id)] = latest
        channels = [
            {
                **self._place(c, user),
                "unread": sum(
                    1
                    for m in self.ws.messages
                    if m.channel == c.id
                    and self._visible(m, user.id)
                    and float(m.ts) > self._read.get((user.id, c.id), 0)
                ),
            }
            for c in sidebar
        ]
        modal = self.ws.top_modal(user.id)
        return {
            "version": self.ws.version,
            "me": user.id,
            "users": [
                {"id": u.id, "name": u.name, "tz": u.tz, "admin": u.is_admin}
                for u in self.ws.people()
            ],
            "channels": channels,
            "channel": channels[sidebar.index(channel)],
            "messages": items,
            "modal": None if modal is None else _modal_state(modal, viewer),
        }


def _modal_state(modal: Modal, viewer: Viewer) -> dict[str, Any]:
    view = modal.view

    def label(key: str) -> str | None:
        obj = view.get(key)
        return str(obj.get("text")) if isinstance(obj, dict) else None

    return {
        "id": view["id"],
        "title": label("title"),
        "submit": label("submit"),
        "close": label("close") or "Cancel",
        "html": render_view(view, viewer, modal.errors),
        "error": modal.errors.get(""),
    }
