"""The Slack Web API methods a bot uses, answered as Slack does (same fields, same error codes)
by changing a `Workspace`. Transport-free and synchronous: `WebApi.call(method, args, token)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from bot.demo.wire import SlackUser
from bot.demo.workspace.model import (
    APP_ID,
    BOT,
    BOT_ID,
    TEAM_ID,
    ApiError,
    Channel,
    Message,
    Modal,
    dm_id,
)
from bot.demo.workspace.state import Workspace, with_block_ids

__all__ = ["WebApi"]

TRIGGER_SECONDS: Final = 3.0
"""A trigger_id opens a modal only within 3 seconds of the interaction, as in Slack."""
MAX_BLOCKS: Final = 50
MAX_TEXT: Final = 40_000
MODAL_TITLE_MAX: Final = 24


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
            message.blocks = with_block_ids(list(args["blocks"] or []), self.ws)
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
            "blocks": with_block_ids(list(view.get("blocks") or []), self.ws),
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
