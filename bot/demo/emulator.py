"""The demo's Slack emulator over HTTP: the Web API the bot calls, response_urls, and the page.

The page (`/`, `/demo/…`) never reaches the bot directly: what a person does there becomes the
signed request Slack would send to the bot's `/slack/events`. The bot's Web API calls (`/api/…`)
and response_url posts (`/response/…`) change the workspace; pages hear of it by Server-Sent
Events and fetch their view again. `/demo/sandbox/…` drives the meeting sandbox's control API.
Every route takes only requests for its own host and origin (see `bot.demo.guard`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.demo.guard import LOOPBACK, page_hosts, refusal
from bot.demo.render import Viewer, format_date, render_message, render_view
from bot.demo.wire import (
    SlackUser,
    block_actions_payload,
    encode_typed,
    interaction_body,
    parse_api_args,
    signed_headers,
    slash_command_body,
    view_state,
    view_submission_payload,
)
from bot.demo.workspace import (
    APP_ID,
    BOT,
    GENERAL,
    SLACKBOT,
    ApiError,
    Channel,
    Message,
    Modal,
    WebApi,
    Workspace,
)

__all__ = ["Emulator", "EmulatorConfig"]

log = logging.getLogger(__name__)

ACK_SECONDS: Final = 3.0
"""Slack waits this long for an app's answer to a command or an interaction."""
RESPONSE_URL_SECONDS: Final = 30 * 60
RESPONSE_URL_USES: Final = 5
COMMANDS: Final = ("/meet",)
CONNECT_TROUBLE: Final = "We had some trouble connecting. Try again?"
STATIC: Final = {"app.js": "text/javascript", "app.css": "text/css", "index.html": "text/html"}
INVALID_JSON: Final = "invalid_json"

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the bot and the sandbox are, and the secrets the bot was given."""

    events_url: str
    """The bot's `/slack/events`."""
    signing_secret: str
    bot_token: str
    sandbox_url: str
    public_url: str
    """This emulator's own base URL (response_urls point here)."""
    host: str = LOOPBACK
    """The address the page is bound to: with 127.0.0.1 and localhost, what its Host may name."""


@dataclass
class Responder:
    """Where a response_url's messages go."""

    channel: str
    user: str
    message_ts: str | None
    thread_ts: str | None
    issued: float
    uses: int = 0


class Emulator:
    """One demo workspace served over HTTP; use `async with` around serving `.app`."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        workspace: Workspace | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.ws = workspace or Workspace.demo(clock)
        self.api = WebApi(self.ws, token=config.bot_token, public_url=config.public_url)
        self._clock = clock
        self._responders: dict[str, Responder] = {}
        self._read: dict[tuple[str, str], float] = {}
        self._changed = asyncio.Event()
        self._seen_version = self.ws.version
        self._closing = False
        self._bot = httpx.AsyncClient(timeout=ACK_SECONDS)
        self._sandbox = httpx.AsyncClient(base_url=config.sandbox_url, timeout=10)
        self.app = Starlette(routes=self._routes())

    async def __aenter__(self) -> Emulator:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()
        await self._bot.aclose()
        await self._sandbox.aclose()

    def close(self) -> None:
        """End the event streams (so the server can stop)."""
        self._closing = True
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _after_change(self) -> None:
        if self.ws.version != self._seen_version:
            self._seen_version = self.ws.version
            self._notify()

    # --- what Slack sends the bot --------------------------------------------------------------

    def _user(self, user_id: str) -> SlackUser:
        user = self.ws.users.get(user_id)
        if user is None or user.is_bot:
            raise ApiError("user_not_found")
        return user

    def _responder(self, channel: str, user: str, message: Message | None) -> str:
        rid = self.ws.next_id("r")
        thread = message.thread_ts if message is not None and message.is_reply else None
        self._responders[rid] = Responder(
            channel, user, message.ts if message else None, thread, self._clock()
        )
        return f"{self.config.public_url}/response/{rid}"

    async def _deliver(self, body: str) -> httpx.Response | None:
        """POST a signed request to the bot; None when it did not answer in Slack's 3 seconds."""
        headers = signed_headers(
            body, secret=self.config.signing_secret, timestamp=int(self._clock())
        )
        try:
            return await self._bot.post(self.config.events_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("the bot did not answer: %s", type(exc).__name__)
            return None

    def _slackbot(self, channel: Channel, user: str, text: str) -> None:
        self.ws.post(channel, SLACKBOT.id, text=text, visible_to=user)

    async def command(self, user_id: str, channel_id: str, typed: str) -> dict[str, Any]:
        """A person typed a slash command in the composer."""
        user, channel = self._user(user_id), self.ws.channel(channel_id)
        name, _, rest = typed.strip().partition(" ")
        if name not in COMMANDS:
            self._slackbot(channel, user.id, f"`{name}` is not a valid command.")
            return {"ok": False, "error": "invalid_command"}
        channels = {c.id: c.name for c in self.ws.channels.values() if not c.im_user}
        body = slash_command_body(
            encode_typed(rest.strip(), users=self.ws.people(), channels=channels),
            user_id=user.id,
            team_id=user.team_id,
            channel_id=channel.id,
            channel_name="directmessage" if channel.im_user else channel.name,
            user_name=user.name.lower(),
            command=name,
            response_url=self._responder(channel.id, user.id, None),
            trigger_id=self.ws.issue_trigger(user.id),
            api_app_id=APP_ID,
        )
        answer = await self._deliver(body)
        if answer is None or answer.status_code != 200:
            error = "operation_timeout" if answer is None else "http_service_error"
            self._slackbot(channel, user.id, f'`{name}` failed with the error "{error}"')
            return {"ok": False, "error": error}
        if answer.content.strip():
            try:
                message = answer.json()
            except ValueError:
                message = {"text": answer.text}
            responder = Responder(channel.id, user.id, None, None, self._clock())
            self._answer(responder, message if isinstance(message, dict) else {"text": answer.text})
        return {"ok": True}

    def message(self, user_id: str, channel_id: str, typed: str, thread_ts: str | None) -> None:
        """A person posted a plain message (the bot subscribes to no message events)."""
        user, channel = self._user(user_id), self.ws.channel(channel_id)
        channels = {c.id: c.name for c in self.ws.channels.values() if not c.im_user}
        text = encode_typed(typed, users=self.ws.people(), channels=channels)
        self.ws.post(channel, user.id, text=text, thread_ts=thread_ts or None)

    async def press(
        self, user_id: str, channel_id: str, ts: str, block_id: str, action_id: str
    ) -> dict[str, Any]:
        """A person pressed a button in a message."""
        user, channel = self._user(user_id), self.ws.channel(channel_id)
        message = self.ws.find(channel.id, ts)
        if message is None or message.visible_to not in (None, user.id):
            raise ApiError("message_not_found")
        element = _find_element(message.blocks, block_id, action_id)
        if element is None:
            raise ApiError("action_not_found")
        payload = block_actions_payload(
            user=user,
            channel=(channel.id, "directmessage" if channel.im_user else channel.name),
            message=message.as_slack(),
            ephemeral=message.visible_to is not None,
            block_id=block_id,
            element=element,
            response_url=self._responder(channel.id, user.id, message),
            trigger_id=self.ws.issue_trigger(user.id),
            action_ts=f"{self._clock():.6f}",
            api_app_id=APP_ID,
        )
        answer = await self._deliver(interaction_body(payload))
        if answer is None or answer.status_code != 200:
            return {"ok": False, "error": "the app did not respond"}
        return {"ok": True}

    async def submit(
        self, user_id: str, view_id: str, raw: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        """A person submitted the modal on top of their stack."""
        user = self._user(user_id)
        modal = self.ws.top_modal(user.id)
        if modal is None or modal.view["id"] != view_id:
            raise ApiError("not_found")
        values, errors = view_state(modal.view, raw, ZoneInfo(user.tz))
        if errors:  # Slack checks required inputs itself; the app never hears of it
            modal.errors = errors
            self.ws.changed()
            return {"ok": False, "errors": errors}
        payload = view_submission_payload(
            user=user,
            view=modal.view,
            values=values,
            trigger_id=self.ws.issue_trigger(user.id),
            api_app_id=APP_ID,
        )
        answer = await self._deliver(interaction_body(payload))
        if answer is None or answer.status_code != 200:
            modal.errors = {"": CONNECT_TROUBLE}
            self.ws.changed()
            return {"ok": False, "errors": modal.errors}
        reply: Any = answer.json() if answer.content.strip() else {}
        action = reply.get("response_action") if isinstance(reply, dict) else None
        match action:
            case "errors":
                modal.errors = {str(k): str(v) for k, v in dict(reply.get("errors", {})).items()}
            case "update":
                modal.view = self.api._view({"view": reply.get("view")}, view_id=modal.view["id"])
                modal.errors = {}
            case "push":
                pushed = self.api._view({"view": reply.get("view")})
                self.ws.modals[user.id].append(Modal(pushed, user.id))
            case "clear":
                self.ws.close_modals(user.id, all_of_them=True)
            case _:
                self.ws.close_modals(user.id)
        self.ws.changed()
        return {"ok": action != "errors", "errors": modal.errors if action == "errors" else {}}

    def close_view(self, user_id: str, view_id: str) -> None:
        modal = self.ws.top_modal(user_id)
        if modal is not None and modal.view["id"] == view_id:
            self.ws.close_modals(user_id)

    # --- what the bot sends back ---------------------------------------------------------------

    def _answer(self, responder: Responder, body: Mapping[str, Any]) -> None:
        """A message sent to a response_url (or in an ack): Slack's response_url rules."""
        original = (
            self.ws.find(responder.channel, responder.message_ts) if responder.message_ts else None
        )
        if body.get("delete_original"):
            if original is not None:
                self.ws.messages.remove(original)
                self.ws.changed()
            return
        text = str(body.get("text") or "")
        blocks = body.get("blocks") or []
        if not text and not blocks:
            raise ApiError("no_text")
        if body.get("replace_original") and original is not None:
            original.text, original.blocks = text, list(blocks)
            self.ws.changed()
            return
        in_channel = body.get("response_type") == "in_channel"
        self.ws.post(
            self.ws.channel(responder.channel),
            BOT.id,
            text=text,
            blocks=list(blocks),
            thread_ts=responder.thread_ts,
            visible_to=None if in_channel else responder.user,
        )

    def respond(self, rid: str, body: Mapping[str, Any]) -> tuple[int, str]:
        """A post to a response_url: (HTTP status, body) as Slack answers it."""
        responder = self._responders.get(rid)
        if responder is None:
            return 404, "no_such_url"
        if self._clock() - responder.issued > RESPONSE_URL_SECONDS:
            return 404, "expired_url"
        if responder.uses >= RESPONSE_URL_USES:
            return 404, "used_url"
        responder.uses += 1
        try:
            self._answer(responder, body)
        except ApiError as exc:
            return 400, exc.code
        return 200, "ok"

    # --- what the page shows -------------------------------------------------------------------

    def _viewer(self, user: SlackUser) -> Viewer:
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
        user = self._user(user_id)
        viewer = self._viewer(user)
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
                "id": c.id,
                "name": c.name,
                "dm": c.im_user is not None,
                "label": BOT.name if c.im_user else c.name,
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
            "channel": {"id": channel.id, "label": channels[sidebar.index(channel)]["label"]},
            "messages": items,
            "modal": None if modal is None else _modal_state(modal, viewer),
        }

    async def sandbox_meetings(self, user_id: str) -> list[dict[str, Any]]:
        viewer = self._viewer(self._user(user_id))
        answer = await self._sandbox.get("/_sandbox/meetings")
        answer.raise_for_status()
        rows = []
        for m in answer.json():
            rows.append(
                {
                    "id": m["conference_id"],
                    "subject": m["subject"],
                    "state": m["state"],
                    "start": format_date(int(m["start"]), "{date_short_pretty} {time}", viewer),
                    "start_epoch": m["start"],
                    "participants": m["participants"],
                    "past_sessions": sum(1 for x in m["sessions"] if x.get("end") is not None),
                }
            )
        order = {"Created": 0, "Schedule": 1, "Ended": 2, "Cancelled": 3}
        return sorted(rows, key=lambda r: (order.get(r["state"], 4), -float(r["start_epoch"])))

    async def sandbox_control(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        answer = await self._sandbox.request(method, f"/_sandbox/meetings/{path}", json=body)
        self.ws.changed()  # the panel of every page shows the new state
        self._after_change()
        out = answer.json() if answer.content else {}
        if answer.status_code >= 400:
            return {"ok": False, "error": out.get("error_msg", answer.reason_phrase)}
        return {"ok": True, **out}

    # --- HTTP ----------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        guard = self._guard  # on every route; `_page` guards its own
        return [
            Route("/", guard(self._index), methods=["GET"]),
            Route("/static/{name}", guard(self._static), methods=["GET"]),
            # Forms too, as the bot's slack_sdk sends them: the bot token guards the Web API.
            Route("/api/{method}", guard(self._web_api), methods=["GET", "POST"]),
            Route("/response/{rid}", guard(self._response_url, json_body=True), methods=["POST"]),
            Route("/demo/state", guard(self._state), methods=["GET"]),
            Route("/demo/events", guard(self._events), methods=["GET"]),
            Route("/demo/command", self._page(self._p_command), methods=["POST"]),
            Route("/demo/message", self._page(self._p_message), methods=["POST"]),
            Route("/demo/action", self._page(self._p_action), methods=["POST"]),
            Route("/demo/view", self._page(self._p_view), methods=["POST"]),
            Route("/demo/view/close", self._page(self._p_close), methods=["POST"]),
            Route("/demo/sandbox", guard(self._sandbox_list), methods=["GET"]),
            Route("/demo/sandbox/{path:path}", self._page(self._p_sandbox), methods=["POST"]),
        ]

    def _guard(self, endpoint: Endpoint, *, json_body: bool = False) -> Endpoint:
        """`endpoint` behind the rules of `guard.refusal`, for the port the request came in on."""

        async def guarded(request: Request) -> Response:
            server = request.scope.get("server")  # the listening socket's (address, port)
            hosts = page_hosts(self.config.host, server[1]) if server else frozenset()
            refused = refusal(request.method, request.headers, hosts=hosts, json_body=json_body)
            if refused is not None:
                status, error = refused
                return JSONResponse({"ok": False, "error": error}, status)
            return await endpoint(request)

        return guarded

    async def _index(self, _: Request) -> Response:
        return HTMLResponse(_static_text("index.html"))

    async def _static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return Response("not found", 404)
        return Response(
            _static_text(name), media_type=STATIC[name], headers={"Cache-Control": "no-cache"}
        )

    async def _web_api(self, request: Request) -> Response:
        try:
            args = parse_api_args(
                await request.body(), request.headers.get("content-type", ""), request.query_params
            )
        except ValueError:
            return JSONResponse({"ok": False, "error": INVALID_JSON}, 400)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else str(args.pop("token", "") or "")
        answer = self.api.call(request.path_params["method"], args, token or None)
        self._after_change()
        return JSONResponse(answer)

    async def _response_url(self, request: Request) -> Response:
        try:
            args = parse_api_args(
                await request.body(), request.headers.get("content-type", ""), request.query_params
            )
        except ValueError:
            return Response(INVALID_JSON, 400, media_type="text/plain")
        status, text = self.respond(request.path_params["rid"], args)
        self._after_change()
        return Response(text, status, media_type="text/plain")

    async def _state(self, request: Request) -> Response:
        query = request.query_params
        try:
            state = self.page_state(query.get("user", ""), query.get("channel", GENERAL))
        except ApiError as exc:
            return JSONResponse({"ok": False, "error": exc.code}, 400)
        return JSONResponse(state)

    async def _events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            version = -1
            while not self._closing and not await request.is_disconnected():
                changed = self._changed
                if version != self.ws.version:
                    version = self.ws.version
                    yield f"data: {version}\n\n"
                    continue
                try:
                    await asyncio.wait_for(changed.wait(), 10)
                except TimeoutError:
                    yield ": keep-alive\n\n"

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    def _page(self, handler: Callable[[dict[str, Any], Request], Awaitable[Any]]) -> Endpoint:
        """One of the page's JSON endpoints (guarded): `handler` gets the body as an object."""

        async def endpoint(request: Request) -> Response:
            try:
                body = _json_object(await request.body())
            except ValueError:
                return JSONResponse({"ok": False, "error": INVALID_JSON}, 400)
            try:
                out = await handler(body, request)
            except ApiError as exc:
                out = {"ok": False, "error": exc.code}
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"ok": False, "error": str(exc)}, 400)
            finally:
                self._after_change()
            return JSONResponse(out if out is not None else {"ok": True})

        return self._guard(endpoint, json_body=True)

    async def _p_command(self, body: dict[str, Any], _: Request) -> dict[str, Any]:
        return await self.command(str(body["user"]), str(body["channel"]), str(body["text"]))

    async def _p_message(self, body: dict[str, Any], _: Request) -> None:
        self.message(
            str(body["user"]), str(body["channel"]), str(body["text"]), body.get("thread_ts")
        )

    async def _p_action(self, body: dict[str, Any], _: Request) -> dict[str, Any]:
        return await self.press(
            str(body["user"]),
            str(body["channel"]),
            str(body["ts"]),
            str(body["block_id"]),
            str(body["action_id"]),
        )

    async def _p_view(self, body: dict[str, Any], _: Request) -> dict[str, Any]:
        raw = body.get("values") or {}
        if not isinstance(raw, dict):
            raise TypeError("values must be an object")
        return await self.submit(str(body["user"]), str(body["view_id"]), raw)

    async def _p_close(self, body: dict[str, Any], _: Request) -> None:
        self.close_view(str(body["user"]), str(body["view_id"]))

    async def _sandbox_list(self, request: Request) -> Response:
        try:
            rows = await self.sandbox_meetings(request.query_params.get("user", ""))
        except (ApiError, httpx.HTTPError) as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, 502)
        return JSONResponse({"ok": True, "meetings": rows})

    async def _p_sandbox(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        path = request.path_params["path"]
        conference, _, action = path.partition("/")
        match action.split("/"):
            case ["start"] | ["end"]:
                return await self.sandbox_control("POST", f"{conference}/{action}")
            case ["join"]:
                name = self._user(str(body["user"])).name
                return await self.sandbox_control(
                    "POST", f"{conference}/participants", {"name": name, "account_id": None}
                )
            case ["leave", participant]:
                return await self.sandbox_control(
                    "DELETE", f"{conference}/participants/{participant}"
                )
        raise ValueError(f"unknown sandbox action {action!r}")


def _json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object; ValueError for anything else (malformed, not UTF-8, empty, an array)."""
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")  # noqa: TRY004 -- malformed, as broken JSON is
    return body


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


def _find_element(
    blocks: list[dict[str, Any]], block_id: str, action_id: str
) -> dict[str, Any] | None:
    for block in blocks:
        if block.get("block_id") != block_id:
            continue
        candidates = [block.get("accessory"), *block.get("elements", ())]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _static_text(name: str) -> str:
    return (resources.files("bot.demo") / "static" / name).read_text(encoding="utf-8")
