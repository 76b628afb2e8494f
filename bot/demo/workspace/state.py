"""The demo workspace's state: who is in it, what was said where, which views and calls are open.

`version` moves on every change, so the page knows to fetch its view again; the Web API
(`bot.demo.workspace.web_api`) and the emulator (`bot.demo.emulator`) change it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.demo.wire import SlackUser
from bot.demo.workspace.model import (
    BOT,
    DEMO_USERS,
    GENERAL,
    RANDOM,
    SLACKBOT,
    ApiError,
    Channel,
    Message,
    Modal,
    dm_id,
)

__all__ = ["Workspace", "with_block_ids"]


@dataclass
class Workspace:
    """Everything the demo workspace holds; `version` moves on every change."""

    users: dict[str, SlackUser]
    channels: dict[str, Channel]
    messages: list[Message] = field(default_factory=list)
    modals: dict[str, list[Modal]] = field(default_factory=dict)
    """User ID -> their stack of open views (the last one shows)."""
    triggers: dict[str, tuple[str, float]] = field(default_factory=dict)
    """trigger_id -> (user ID, when it was issued)."""
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    clock: Callable[[], float] = time.time
    _last_ts: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def demo(cls, clock: Callable[[], float] = time.time) -> Workspace:
        """The fixture workspace: four members, #general (with the bot) and #random (without)."""
        people = {u.id for u in DEMO_USERS}
        return cls(
            users={u.id: u for u in (*DEMO_USERS, BOT, SLACKBOT)},
            channels={
                GENERAL: Channel(GENERAL, "general", {*people, BOT.id}),
                RANDOM: Channel(RANDOM, "random", set(people)),
            },
            clock=clock,
        )

    def changed(self) -> None:
        self.version += 1

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def next_ts(self) -> str:
        """A message ts: seconds.micro, unique and increasing like Slack's."""
        self._last_ts = max(round(self.clock(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def people(self) -> list[SlackUser]:
        return [u for u in self.users.values() if not u.is_bot]

    def person(self, user_id: str) -> SlackUser:
        """A member who is a person (not a bot); ApiError user_not_found for anyone else."""
        user = self.users.get(user_id)
        if user is None or user.is_bot:
            raise ApiError("user_not_found")
        return user

    def channel(self, channel_id: str) -> Channel:
        """A conversation by ID; a member's user ID means the bot's DM with them."""
        if channel_id in self.users and not self.users[channel_id].is_bot:
            return self.open_dm(channel_id)
        found = self.channels.get(channel_id)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def open_dm(self, user_id: str) -> Channel:
        cid = dm_id(user_id)
        if cid not in self.channels:
            self.channels[cid] = Channel(cid, self.users[user_id].name, {user_id, BOT.id}, user_id)
        return self.channels[cid]

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
        )
        self.messages.append(message)
        self.changed()
        return message

    def issue_trigger(self, user_id: str) -> str:
        trigger = f"{int(self.clock())}.{self.next_id('')}.demo"
        self.triggers[trigger] = (user_id, self.clock())
        return trigger

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
