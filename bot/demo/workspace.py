"""The demo's Slack workspace: members, channels, messages, modals, calls, and the Web API on them.

Transport-free and synchronous: `WebApi.call(method, args)` answers as Slack does (same fields,
same error codes) by changing the `Workspace`. The HTTP layer lives in `bot.demo.emulator`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
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
    "WebApi",
    "Workspace",
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
TRIGGER_SECONDS: Final = 3.0
"""A trigger_id opens a modal only within 3 seconds of the interaction, as in Slack."""
MAX_BLOCKS: Final = 50
MAX_TEXT: Final = 40_000
MODAL_TITLE_MAX: Final = 24


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
            blocks=_with_block_ids(blocks or [], self),
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


def _with_block_ids(blocks: list[dict[str, Any]], workspace: Workspace) -> list[dict[str, Any]]:
    """Slack gives every block without a block_id one of its own."""
    return [
        b
        if "block_id" in b or not isinstance(b, dict)
        else {**b, "block_id": workspace.next_id("b")}
        for b in blocks
    ]


def _flag(args: Mapping[str, Any], name: str) -> bool:
    return str(args.get(name, "")).lower() in {"1", "true"}


def _text_arg(args: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = str(args.get("text") or "")
    blocks = args.get("blocks") or []
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        raise ApiError("invalid_blocks")
    if len(blocks) > MAX_BLOCKS:
        raise ApiError("invalid_blocks")
    if not text and not blocks:
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks


def _metadata(args: Mapping[str, Any]) -> dict[str, Any] | None:
    metadata = args.get("metadata")
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


class WebApi:
    """The Slack Web API methods a bot uses, answered from (and into) a Workspace."""

    def __init__(self, workspace: Workspace, *, token: str, public_url: str) -> None:
        self.ws = workspace
        self._token = token
        self._public_url = public_url.rstrip("/")
        self._methods: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "users.lookupByEmail": self.users_lookup_by_email,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": lambda args: {"ok": True, "view": args.get("view") or {}},
            "calls.add": self.calls_add,
            "calls.info": self.calls_info,
            "calls.update": self.calls_update,
            "calls.end": self.calls_end,
            "calls.participants.add": self.calls_participants_add,
            "calls.participants.remove": self.calls_participants_remove,
        }

    def call(self, method: str, args: Mapping[str, Any], token: str | None) -> dict[str, Any]:
        """Answer one Web API call as Slack would."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self._token:
            return {"ok": False, "error": "invalid_auth"}
        handler = self._methods.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            return handler(args)
        except ApiError as exc:
            return {"ok": False, "error": exc.code}

    # --- identity ------------------------------------------------------------------------------

    def auth_test(self, _: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"{self._public_url}/",
            "team": "meetbot demo",
            "user": BOT.name,
            "team_id": TEAM_ID,
            "user_id": BOT.id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _user(self, user_id: object) -> SlackUser:
        user = self.ws.users.get(str(user_id))
        if user is None:
            raise ApiError("user_not_found")
        return user

    def users_info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user": self._user(args.get("user")).as_slack()}

    def users_list(self, _: Mapping[str, Any]) -> dict[str, Any]:
        members = [u.as_slack() for u in self.ws.users.values()]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def users_lookup_by_email(self, args: Mapping[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.ws.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": user.as_slack()}
        raise ApiError("users_not_found")

    # --- conversations -------------------------------------------------------------------------

    def _member_channel(self, args: Mapping[str, Any]) -> Channel:
        channel = self.ws.channel(str(args.get("channel", "")))
        if BOT.id not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    def conversations_open(self, args: Mapping[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("not_enough_users")  # group DMs are not part of the demo
        self._user(users[0])
        existed = dm_id(users[0]) in self.ws.channels
        channel = self.ws.open_dm(users[0])
        out: dict[str, Any] = {"ok": True, "channel": {"id": channel.id}}
        if existed:
            out |= {"no_op": True, "already_open": True}
        return out

    def conversations_info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": self.ws.channel(str(args.get("channel", ""))).as_slack()}

    @staticmethod
    def _window(messages: list[Message], args: Mapping[str, Any]) -> list[Message]:
        inclusive = _flag(args, "inclusive")
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")

        def inside(m: Message) -> bool:
            ts = float(m.ts)
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        return [m for m in messages if inside(m)]

    @staticmethod
    def _page(items: list[Message], args: Mapping[str, Any]) -> tuple[list[Message], str]:
        limit = min(max(int(args.get("limit") or 100), 1), 999)
        start = int(args.get("cursor") or 0)
        page = items[start : start + limit]
        return page, str(start + limit) if start + limit < len(items) else ""

    def conversations_history(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args)
        shown = [
            m
            for m in self.ws.messages
            if m.channel == channel.id and m.visible_to is None and (not m.is_reply or m.broadcast)
        ]
        shown = sorted(self._window(shown, args), key=lambda m: float(m.ts), reverse=True)
        page, cursor = self._page(shown, args)
        with_metadata = _flag(args, "include_all_metadata")
        return {
            "ok": True,
            "messages": [
                m.as_slack(replies=self.ws.replies(m), metadata=with_metadata) for m in page
            ],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_replies(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args)
        message = self.ws.find(channel.id, str(args.get("ts", "")))
        if message is None or message.visible_to is not None:
            raise ApiError("thread_not_found")
        parent = self.ws.find(channel.id, message.thread_ts or message.ts) or message
        thread = [parent, *self.ws.replies(parent)]
        page, cursor = self._page(self._window(thread, args), args)
        with_metadata = _flag(args, "include_all_metadata")
        return {
            "ok": True,
            "messages": [
                m.as_slack(
                    replies=self.ws.replies(m) if m is parent else None, metadata=with_metadata
                )
                for m in page
            ],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    # --- chat ----------------------------------------------------------------------------------

    def chat_post_message(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args)
        text, blocks = _text_arg(args)
        message = self.ws.post(
            channel,
            BOT.id,
            text=text,
            blocks=blocks,
            thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
            metadata=_metadata(args),
            broadcast=_flag(args, "reply_broadcast"),
        )
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": message.as_slack(metadata=True),
        }

    def chat_post_ephemeral(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args)
        user = self._user(args.get("user"))
        if user.id not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = _text_arg(args)
        message = self.ws.post(
            channel,
            BOT.id,
            text=text,
            blocks=blocks,
            thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
            visible_to=user.id,
        )
        return {"ok": True, "message_ts": message.ts}

    def _own_message(self, args: Mapping[str, Any], ts_arg: str, refusal: str) -> Message:
        channel = self.ws.channel(str(args.get("channel", "")))
        message = self.ws.find(channel.id, str(args.get(ts_arg, "")))
        if message is None or message.visible_to is not None:
            raise ApiError("message_not_found")
        if message.user != BOT.id:
            raise ApiError(refusal)
        return message

    def chat_update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        message = self._own_message(args, "ts", "cant_update_message")
        # As in Slack: a field left out keeps its value; an empty `blocks` removes the blocks.
        if "blocks" in args:
            _text_arg({"text": args.get("text") or message.text, "blocks": args["blocks"]})
            message.blocks = _with_block_ids(list(args["blocks"] or []), self.ws)
        if "text" in args:
            message.text = str(args["text"] or "")
        if "metadata" in args:
            message.metadata = _metadata(args)
        message.edited = True
        self.ws.changed()
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_slack(metadata=True),
        }

    def chat_delete(self, args: Mapping[str, Any]) -> dict[str, Any]:
        message = self._own_message(args, "ts", "cant_delete_message")
        if self.ws.replies(message):
            # Slack keeps a thread's parent as a tombstone so the replies stay reachable.
            message.text, message.blocks = "This message was deleted.", []
        else:
            self.ws.messages.remove(message)
        self.ws.changed()
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def chat_get_permalink(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(str(args.get("channel", "")))
        ts = str(args.get("message_ts", ""))
        if self.ws.find(channel.id, ts) is None:
            raise ApiError("message_not_found")
        link = f"{self._public_url}/archives/{channel.id}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    # --- views ---------------------------------------------------------------------------------

    def _trigger_user(self, args: Mapping[str, Any]) -> str:
        issued = self.ws.triggers.pop(str(args.get("trigger_id", "")), None)
        if issued is None:
            raise ApiError("invalid_trigger_id")
        user_id, at = issued
        if self.ws.clock() - at > TRIGGER_SECONDS:
            raise ApiError("expired_trigger_id")
        return user_id

    def _view(self, args: Mapping[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise ApiError("invalid_arguments")
        title = str((view.get("title") or {}).get("text", ""))
        if not title or len(title) > MODAL_TITLE_MAX or len(view.get("blocks") or []) > 100:
            raise ApiError("invalid_arguments")
        vid = view_id or self.ws.next_id("V")
        return {
            **view,
            "id": vid,
            "team_id": TEAM_ID,
            "blocks": _with_block_ids(list(view.get("blocks") or []), self.ws),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.ws.next_id("h"),
            "root_view_id": vid,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "external_id": view.get("external_id", ""),
        }

    def views_open(self, args: Mapping[str, Any]) -> dict[str, Any]:
        user_id = self._trigger_user(args)
        view = self._view(args)
        self.ws.modals[user_id] = [Modal(view, user_id)]
        self.ws.changed()
        return {"ok": True, "view": view}

    def views_push(self, args: Mapping[str, Any]) -> dict[str, Any]:
        user_id = self._trigger_user(args)
        if not self.ws.modals.get(user_id):
            raise ApiError("not_found")
        view = self._view(args)
        self.ws.modals[user_id].append(Modal(view, user_id))
        self.ws.changed()
        return {"ok": True, "view": view}

    def views_update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        external = str(args.get("external_id") or "")
        modal = next(
            (
                m
                for stack in self.ws.modals.values()
                for m in stack
                if (view_id and m.view["id"] == view_id)
                or (external and m.view.get("external_id") == external)
            ),
            None,
        )
        if modal is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != modal.view["hash"]:
            raise ApiError("hash_conflict")
        modal.view = self._view(args, view_id=modal.view["id"])
        modal.errors = {}
        self.ws.changed()
        return {"ok": True, "view": modal.view}

    # --- calls ---------------------------------------------------------------------------------

    def _call(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self.ws.calls.get(str(args.get("id", "")))
        if call is None:
            raise ApiError("invalid_call_id")
        return call

    @staticmethod
    def _call_users(args: Mapping[str, Any]) -> list[dict[str, Any]]:
        users = args.get("users") or []
        if not isinstance(users, list) or not all(
            isinstance(u, dict) and ("slack_id" in u or "external_id" in u) for u in users
        ):
            raise ApiError("invalid_users")
        return [dict(u) for u in users]

    def calls_add(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if not args.get("external_unique_id") or not args.get("join_url"):
            raise ApiError("invalid_arguments")
        call_id = self.ws.next_id("R")
        call = {
            "id": call_id,
            "app_id": APP_ID,
            "date_start": int(args.get("date_start") or self.ws.clock()),
            "external_unique_id": str(args["external_unique_id"]),
            "external_display_id": str(args.get("external_display_id", "")),
            "join_url": str(args["join_url"]),
            "desktop_app_join_url": str(args.get("desktop_app_join_url", "")),
            "title": str(args.get("title", "")),
            "users": self._call_users(args),
        }
        self.ws.calls[call_id] = call
        self.ws.changed()
        return {"ok": True, "call": call}

    def calls_info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "call": self._call(args)}

    def calls_update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        for key in ("title", "join_url", "desktop_app_join_url"):
            if key in args:
                call[key] = str(args[key])
        self.ws.changed()
        return {"ok": True, "call": call}

    def calls_end(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        if call.get("date_end"):
            raise ApiError("already_ended")
        call["date_end"] = int(self.ws.clock())
        call["duration"] = int(args.get("duration") or call["date_end"] - call["date_start"])
        self.ws.changed()
        return {"ok": True}

    @staticmethod
    def _same_person(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return any(k in a and a.get(k) == b.get(k) for k in ("slack_id", "external_id"))

    def calls_participants_add(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        for user in self._call_users(args):
            if not any(self._same_person(user, u) for u in call["users"]):
                call["users"].append(user)
        self.ws.changed()
        return {"ok": True}

    def calls_participants_remove(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        leaving = self._call_users(args)
        call["users"] = [
            u for u in call["users"] if not any(self._same_person(x, u) for x in leaving)
        ]
        self.ws.changed()
        return {"ok": True}
