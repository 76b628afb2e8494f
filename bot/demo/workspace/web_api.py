"""The Slack Web API methods a bot uses, answered as Slack does (same fields, same error codes,
same rules: tokens per team, scopes, conversation kinds and membership, trigger_ids, rate
tiers) by changing a `Workspace`. Transport-free and synchronous: `WebApi.respond(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.demo.wire import SlackUser
from bot.demo.workspace.calls import CallsApi
from bot.demo.workspace.limits import RateLimits
from bot.demo.workspace.model import (
    APP_ID,
    BOT_ID,
    HISTORY_SCOPE,
    READ_SCOPE,
    TEAM_ID,
    ApiError,
    Channel,
    Installation,
    Kind,
    Message,
    Modal,
    dm_id,
)
from bot.demo.workspace.oauth import OAuthServer
from bot.demo.workspace.state import Workspace, with_block_ids

__all__ = ["METHOD_SCOPES", "WebApi"]

MAX_BLOCKS: Final = 50
MAX_TEXT: Final = 40_000
MODAL_TITLE_MAX: Final = 24

METHOD_SCOPES: Final = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "conversations.join": "channels:join",
    "calls.add": "calls:write",
    "calls.update": "calls:write",
    "calls.end": "calls:write",
    "calls.participants.add": "calls:write",
    "calls.participants.remove": "calls:write",
    "calls.info": "calls:read",
}
"""The scope a method needs whatever its arguments (others depend on the conversation's kind)."""


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


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's installation and what it may see."""

    installation: Installation
    teams: frozenset[str]

    @property
    def scopes(self) -> frozenset[str]:
        return self.installation.scopes

    def need(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiError("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))


class WebApi:
    """The Slack Web API methods a bot uses, answered from (and into) a Workspace.

    Calls are answered one at a time (synchronously): `_caller` is the current call's.
    """

    def __init__(
        self, workspace: Workspace, *, public_url: str, limits: RateLimits | None = None
    ) -> None:
        self.ws = workspace
        self.limits = limits or RateLimits(workspace.clock)
        self._public_url = public_url.rstrip("/")
        self._caller: Caller | None = None
        self.oauth = OAuthServer(workspace)
        self.calls = CallsApi(workspace)
        self._methods: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "auth.revoke": self.auth_revoke,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "users.lookupByEmail": self.users_lookup_by_email,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "conversations.join": self.conversations_join,
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
            "calls.add": self.calls.add,
            "calls.info": self.calls.info,
            "calls.update": self.calls.update,
            "calls.end": self.calls.end,
            "calls.participants.add": self.calls.participants_add,
            "calls.participants.remove": self.calls.participants_remove,
        }

    def respond(
        self, method: str, args: Mapping[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(HTTP status, JSON body, headers) of one Web API call: over its rate limit, HTTP 429
        with Retry-After; else `call`'s answer."""
        channel = str(args.get("channel") or "") or None
        wait = self.limits.retry_after(method, token or "", channel) if token else None
        if wait is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        return 200, self.call(method, args, token), {}

    def call(self, method: str, args: Mapping[str, Any], token: str | None) -> dict[str, Any]:
        """Answer one Web API call as Slack would."""
        try:
            if method == "oauth.v2.access":
                return self.oauth.access(args)
            self._caller = self._authenticate(token)
            return self._handler(method)(args)
        except ApiError as exc:
            return exc.as_answer()
        finally:
            self._caller = None

    def _handler(self, method: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        handler = self._methods.get(method)
        if handler is None:
            raise ApiError("unknown_method")
        if method in METHOD_SCOPES:
            self.caller.need(METHOD_SCOPES[method])
        return handler

    def _authenticate(self, token: str | None) -> Caller:
        if not token:
            raise ApiError("not_authed")
        installation = self.ws.installations.get(token)
        if installation is None:
            raise ApiError("invalid_auth")
        if installation.revoked:
            raise ApiError("token_revoked")
        if installation.expires_at is not None and self.ws.clock() > installation.expires_at:
            raise ApiError("token_expired")
        return Caller(installation, self.ws.teams_of(installation))

    @property
    def caller(self) -> Caller:
        if self._caller is None:
            raise RuntimeError("outside a Web API call")
        return self._caller

    # --- identity ------------------------------------------------------------------------------

    def auth_test(self, _: Mapping[str, Any]) -> dict[str, Any]:
        installation = self.caller.installation
        team = self.ws.teams[installation.team_id]
        return {
            "ok": True,
            "url": f"{self._public_url}/",
            "team": team.name,
            "user": team.bot.name,
            "team_id": team.id,
            "user_id": team.bot.id,
            "bot_id": team.bot_id,
            "enterprise_id": team.enterprise[0] if team.enterprise else None,
            "is_enterprise_install": installation.enterprise_install,
        }

    def auth_revoke(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if not _flag(args, "test"):
            self.caller.installation.revoked = True
        return {"ok": True, "revoked": True}

    def _user(self, user_id: object) -> SlackUser:
        user = self.ws.users.get(str(user_id))
        if user is None or user.team_id not in self.caller.teams:
            raise ApiError("user_not_found")
        return user

    def _shown(self, user: SlackUser) -> dict[str, Any]:
        """A user as this token sees them: the email only with users:read.email."""
        out = user.as_slack()
        if "users:read.email" not in self.caller.scopes:
            out["profile"].pop("email", None)
        return out

    def users_info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user": self._shown(self._user(args.get("user")))}

    def users_list(self, _: Mapping[str, Any]) -> dict[str, Any]:
        members = [self._shown(u) for u in self.ws.users.values() if u.team_id in self.caller.teams]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def users_lookup_by_email(self, args: Mapping[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.ws.users.values():
            if user.email and user.email.lower() == email and user.team_id in self.caller.teams:
                return {"ok": True, "user": self._shown(user)}
        raise ApiError("users_not_found")

    # --- conversations -------------------------------------------------------------------------

    def _bot(self, channel: Channel) -> str:
        return self.ws.bot_of(channel.team_id).id

    def _visible(self, args: Mapping[str, Any]) -> Channel:
        """The conversation `channel` if this token can see it: any public channel of its team,
        any conversation its bot is in (a person's user ID: the app's DM with them)."""
        channel_id = str(args.get("channel", ""))
        user = self.ws.users.get(channel_id)
        if user is not None and not user.is_bot and user.team_id in self.caller.teams:
            return self.ws.open_dm(channel_id)
        channel = self.ws.channels.get(channel_id)
        if channel is None or channel.team_id not in self.caller.teams:
            raise ApiError("channel_not_found")
        if channel.kind is not Kind.PUBLIC and self._bot(channel) not in channel.members:
            raise ApiError("channel_not_found")
        return channel

    def _postable(self, args: Mapping[str, Any]) -> Channel:
        """Where chat:write lets the bot post: conversations it is in, and with
        chat:write.public every public channel."""
        channel = self._visible(args)
        if channel.archived:
            raise ApiError("is_archived")
        if self._bot(channel) not in channel.members and "chat:write.public" not in (
            self.caller.scopes
        ):
            raise ApiError("not_in_channel")
        return channel

    def _readable(self, args: Mapping[str, Any]) -> Channel:
        """Where the history methods read: the kind's history scope and the bot a member."""
        channel = self._visible(args)
        self.caller.need(HISTORY_SCOPE[channel.kind])
        if self._bot(channel) not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    def conversations_open(self, args: Mapping[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        people = [self._user(u) for u in users]
        if len(people) == 1:
            self.caller.need("im:write")
            existed = dm_id(people[0].id) in self.ws.channels
            channel = self.ws.open_dm(people[0].id)
        else:
            self.caller.need("mpim:write")
            if len(people) > 8:
                raise ApiError("too_many_users")
            members = {p.id for p in people} | {self.ws.bot_of(people[0].team_id).id}
            found = next(
                (
                    c
                    for c in self.ws.channels.values()
                    if c.kind is Kind.MPIM and c.members == members
                ),
                None,
            )
            existed = found is not None
            channel = found or self.ws.add_channel(
                self.ws.next_id("G"), "", members, kind=Kind.MPIM
            )
        out: dict[str, Any] = {"ok": True, "channel": {"id": channel.id}}
        if existed:
            out |= {"no_op": True, "already_open": True}
        return out

    def conversations_info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._visible(args)
        self.caller.need(READ_SCOPE[channel.kind])
        return {"ok": True, "channel": channel.as_slack(self._bot(channel))}

    def conversations_join(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._visible(args)
        if channel.kind is not Kind.PUBLIC:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.archived:
            raise ApiError("is_archived")
        bot = self._bot(channel)
        out: dict[str, Any] = {"ok": True}
        if bot in channel.members:
            out |= {"warning": "already_in_channel"}
        channel.members.add(bot)
        self.ws.changed()
        return {**out, "channel": channel.as_slack(bot)}

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
        channel = self._readable(args)
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
        channel = self._readable(args)
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
        channel = self._postable(args)
        text, blocks = _text_arg(args)
        message = self.ws.post(
            channel,
            self._bot(channel),
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
        channel = self._postable(args)
        user = self._user(args.get("user"))
        if user.id not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = _text_arg(args)
        message = self.ws.post(
            channel,
            self._bot(channel),
            text=text,
            blocks=blocks,
            thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
            visible_to=user.id,
        )
        return {"ok": True, "message_ts": message.ts}

    def _own_message(self, args: Mapping[str, Any], ts_arg: str, refusal: str) -> Message:
        channel = self._visible(args)
        message = self.ws.find(channel.id, str(args.get(ts_arg, "")))
        if message is None or message.visible_to is not None:
            raise ApiError("message_not_found")
        if message.user != self._bot(channel):
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
        channel = self._visible(args)
        ts = str(args.get("message_ts", ""))
        if self.ws.find(channel.id, ts) is None:
            raise ApiError("message_not_found")
        link = f"{self._public_url}/archives/{channel.id}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    # --- views ---------------------------------------------------------------------------------

    def _trigger_user(self, args: Mapping[str, Any]) -> str:
        user_id = self.ws.exchange_trigger(str(args.get("trigger_id", "")))
        user = self.ws.users.get(user_id)
        if user is None or user.team_id not in self.caller.teams:
            raise ApiError("invalid_trigger_id")
        return user_id

    def _view(self, args: Mapping[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise ApiError("invalid_arguments")
        title = str((view.get("title") or {}).get("text", ""))
        if not title or len(title) > MODAL_TITLE_MAX or len(view.get("blocks") or []) > 100:
            raise ApiError("invalid_arguments")
        vid = view_id or self.ws.next_id("V")
        team = self.ws.teams[self._caller.installation.team_id] if self._caller else None
        return {
            **view,
            "id": vid,
            "team_id": team.id if team else TEAM_ID,
            "blocks": with_block_ids(list(view.get("blocks") or []), self.ws),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.ws.next_id("h"),
            "root_view_id": vid,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": team.bot_id if team else BOT_ID,
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
