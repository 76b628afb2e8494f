"""The demo emulator's HTTP layer: the routes of the page, the Web API and response_urls.

Every route takes only requests for its own host and origin (see `bot.demo.guard`); the page's
JSON posts become Slack's requests to the bot in `bot.demo.emulator.relay`, and what it shows is
`bot.demo.emulator.page`. Pages hear of every change by Server-Sent Events.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any, Final

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from bot.demo.emulator.config import EmulatorConfig
from bot.demo.emulator.page import PageView
from bot.demo.emulator.relay import SlackRelay
from bot.demo.guard import page_hosts, refusal
from bot.demo.render import format_date
from bot.demo.wire import api_request, parse_api_args
from bot.demo.workspace import DEMO_USERS, GENERAL, TEAM_ID, ApiError, WebApi, Workspace

__all__ = ["Emulator", "authorize_page", "read_api_request"]

STATIC: Final = {"app.js": "text/javascript", "app.css": "text/css", "index.html": "text/html"}
INVALID_JSON: Final = "invalid_json"

Endpoint = Callable[[Request], Awaitable[Response]]


class Emulator:
    """One demo workspace served over HTTP; use `async with` around serving `.app`.

    What a person does reaches the bot through `.relay`; what they see comes from `.page`.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        workspace: Workspace | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.ws = workspace or Workspace.demo(clock)
        self.ws.app = config.oauth
        if config.bot_token not in self.ws.installations:
            self.ws.install(TEAM_ID, installer=DEMO_USERS[0].id, token=config.bot_token)
        self.api = WebApi(self.ws, public_url=config.public_url)
        self.relay = SlackRelay(config, self.ws, self.api, clock=clock)
        self.page = PageView(self.ws, clock=clock)
        self._changed = asyncio.Event()
        self._seen_version = self.ws.version
        self._closing = False
        self._sandbox = httpx.AsyncClient(base_url=config.sandbox_url, timeout=10)
        self.app = Starlette(routes=self._routes())

    async def __aenter__(self) -> Emulator:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()
        await self.relay.aclose()
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

    # --- the meeting sandbox's panel -----------------------------------------------------------

    async def sandbox_meetings(self, user_id: str) -> list[dict[str, Any]]:
        viewer = self.page.viewer(self.ws.person(user_id))
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
            Route("/oauth/v2/authorize", guard(self._authorize), methods=["GET"]),
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
            args, token = await read_api_request(request)
        except ValueError:
            return JSONResponse({"ok": False, "error": INVALID_JSON}, 400)
        status, answer, headers = self.api.respond(request.path_params["method"], args, token)
        self._after_change()
        return JSONResponse(answer, status, headers)

    async def _authorize(self, request: Request) -> Response:
        return authorize_page(self.api, request)

    async def _response_url(self, request: Request) -> Response:
        try:
            args = parse_api_args(
                await request.body(), request.headers.get("content-type", ""), request.query_params
            )
        except ValueError:
            return Response(INVALID_JSON, 400, media_type="text/plain")
        status, text = self.relay.respond(request.path_params["rid"], args)
        self._after_change()
        return Response(text, status, media_type="text/plain")

    async def _state(self, request: Request) -> Response:
        query = request.query_params
        try:
            state = self.page.page_state(query.get("user", ""), query.get("channel", GENERAL))
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
        return await self.relay.command(str(body["user"]), str(body["channel"]), str(body["text"]))

    async def _p_message(self, body: dict[str, Any], _: Request) -> None:
        self.relay.message(
            str(body["user"]), str(body["channel"]), str(body["text"]), body.get("thread_ts")
        )

    async def _p_action(self, body: dict[str, Any], _: Request) -> dict[str, Any]:
        return await self.relay.press(
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
        return await self.relay.submit(str(body["user"]), str(body["view_id"]), raw)

    async def _p_close(self, body: dict[str, Any], _: Request) -> None:
        self.relay.close_view(str(body["user"]), str(body["view_id"]))

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
                name = self.ws.person(str(body["user"])).name
                return await self.sandbox_control(
                    "POST", f"{conference}/participants", {"name": name, "account_id": None}
                )
            case ["leave", participant]:
                return await self.sandbox_control(
                    "DELETE", f"{conference}/participants/{participant}"
                )
        raise ValueError(f"unknown sandbox action {action!r}")


async def read_api_request(request: Request) -> tuple[dict[str, Any], str | None]:
    """A Web API request's (arguments, token); ValueError when its JSON is malformed."""
    return api_request(
        await request.body(),
        request.headers.get("content-type", ""),
        request.query_params,
        request.headers.get("authorization", ""),
    )


def authorize_page(api: WebApi, request: Request) -> Response:
    """Slack's OAuth consent page, approved at once (see `WebApi.authorize`)."""
    status, target = api.oauth.authorize(request.query_params)
    if status == 302:
        return RedirectResponse(target, 302)
    return PlainTextResponse(target, status)


def _json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object; ValueError for anything else (malformed, not UTF-8, empty, an array)."""
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")  # noqa: TRY004 -- malformed, as broken JSON is
    return body


def _static_text(name: str) -> str:
    return (resources.files("bot.demo") / "static" / name).read_text(encoding="utf-8")
