"""The tests' shell around the fake Slack (`bot.demo.workspace`): serves its Web API over real
HTTP, records every call, injects failures; plus signed-request helpers.

Every method's answer and every rule (teams and tokens, conversation kinds and membership,
scopes, trigger_ids, response_url limits, rate tiers, OAuth) is the workspace's; this module
only adds what tests need around it. The request shaping and signing are `bot.demo.wire`'s.
The bot reaches it through MEETBOT_SLACK_API_URL; `response_url`s handed to the bot point here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.demo import wire
from bot.demo.emulator import authorize_page, read_api_request
from bot.demo.wire import (
    SlackUser,
    interaction_body,
    parse_api_args,
    slack_escape,
    slash_command_body,
)
from bot.demo.workspace import (
    BOT_SCOPES,
    ApiError,
    Channel,
    Kind,
    OAuthApp,
    RateLimits,
    Team,
    WebApi,
    Workspace,
)

__all__ = [
    "BOT",
    "BOT_TOKEN",
    "OTHER_BOT",
    "OTHER_TOKEN",
    "SIGNING_SECRET",
    "Call",
    "FakeSlack",
    "SlackUser",
    "build_fake_slack_app",
    "interaction_body",
    "signed_headers",
    "slack_escape",
    "slash_command_body",
]

BOT_TOKEN = "xoxb-test-token"
"""Team T1's bot token (the manifest's scopes)."""
OTHER_TOKEN = "xoxb-test-token-t2"
"""Team T2's bot token."""
SIGNING_SECRET = "test-signing-secret"
BOT = SlackUser("UBOT", "T1", "meetbot", tz="UTC", is_bot=True)
OTHER_BOT = SlackUser("UBOT2", "T2", "meetbot", tz="UTC", is_bot=True)


@dataclass
class Call:
    """One recorded Web API call or response_url post."""

    method: str
    args: dict[str, Any]
    at: float
    wall: float = field(default_factory=time.time)


def _world(clock: Callable[[], float], app: OAuthApp) -> Workspace:
    """Teams T1 (token BOT_TOKEN, #general C1 with the bot) and T2 (token OTHER_TOKEN)."""
    ws = Workspace(users={}, channels={}, app=app, clock=clock)
    ws.add_team(Team("T1", "Test team", BOT, "BBOT"))
    ws.add_team(Team("T2", "Other team", OTHER_BOT, "BBOT2"))
    ws.install("T1", installer="", token=BOT_TOKEN)
    ws.install("T2", installer="", token=OTHER_TOKEN)
    ws.add_channel("C1", "general", {BOT.id})
    return ws


@dataclass
class FakeSlack:
    """The fake Slack (`ws`, answered by `api`) with recorded calls and injected failures."""

    clock: Callable[[], float] = time.time
    """The fake's clock (trigger_id and response_url lifetimes, rate limits, OAuth codes)."""
    app: OAuthApp = field(default_factory=OAuthApp)
    """The registered app (client_id, client_secret, token rotation)."""
    rate_budget: float = 1.0
    """Scales Slack's rate limits (lower it to provoke 429s)."""
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, list[str]] = field(default_factory=dict)
    """Web API method -> queue of Slack error codes to answer with, one per call."""
    rate_limit: dict[str, int] = field(default_factory=dict)
    """Web API method -> number of calls to answer with HTTP 429 (Retry-After: 1)."""
    holds: dict[str, str] = field(default_factory=dict)
    """Web API method -> "before" (hold the request before it is recorded) or "after" (record
    and post it, then hold the answer). See `hold` and `release`."""
    socket_url: str | None = None
    """What apps.connections.open hands out (see tests/fakes/socket_mode.py)."""
    ws: Workspace = field(init=False)
    api: WebApi = field(init=False)
    _held: Counter[str] = field(default_factory=Counter)
    _in_flight: int = 0
    _dropping: set[str] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)
        self.ws = _world(self.clock, self.app)
        limits = RateLimits(self.clock, budget=self.rate_budget)
        self.api = WebApi(self.ws, public_url="https://fake.slack.invalid", limits=limits)

    # --- the world -----------------------------------------------------------------------------

    @property
    def users(self) -> dict[str, SlackUser]:
        return self.ws.users

    @property
    def call_objects(self) -> dict[str, dict[str, Any]]:
        """Slack call objects made with calls.add, by call ID."""
        return self.ws.calls

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message the bot posted (not ephemeral), as conversations.history shows it
        with metadata, plus its `channel`; `thread_ts` only on replies."""
        with self._lock:
            posted = [m for m in self.ws.messages if m.bot_id and m.visible_to is None]
            out = []
            for m in posted:
                shown = {**m.as_slack(metadata=True), "channel": m.channel}
                shown.setdefault("metadata", None)
                if not m.is_reply:
                    shown.pop("thread_ts", None)
                out.append(shown)
            return out

    def add_users(self, *users: SlackUser) -> None:
        """Members of their team; people join every public channel of their team."""
        with self._lock:
            for user in users:
                self.ws.users[user.id] = user
                if user.is_bot:
                    continue
                for channel in self.ws.channels.values():
                    if channel.team_id == user.team_id and channel.kind is Kind.PUBLIC:
                        channel.members.add(user.id)

    def add_channel(
        self,
        channel_id: str,
        name: str = "",
        *,
        team: str = "T1",
        kind: Kind = Kind.PUBLIC,
        bot: bool = True,
        members: Iterable[str] | None = None,
    ) -> Channel:
        """A conversation of `team`: by default public, with the bot and every person of the
        team (`members` names them instead)."""
        with self._lock:
            people = set(members) if members is not None else {u.id for u in self.ws.people(team)}
            if bot:
                people.add(self.ws.bot_of(team).id)
            if not name and kind is not Kind.MPIM:  # Slack names a group DM after its members
                name = channel_id.lower()
            return self.ws.add_channel(channel_id, name, people, kind=kind)

    def install(self, team: str, *, scopes: Iterable[str] = BOT_SCOPES, token: str) -> None:
        """(Re-)install the app into `team` with `scopes` under `token`."""
        with self._lock:
            self.ws.install(team, installer="", scopes=scopes, token=token)

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id for an interaction of `user_id` (views.open takes only these)."""
        with self._lock:
            return self.ws.issue_trigger(user_id)

    def answer(self, method: str, args: dict[str, Any], token: str = BOT_TOKEN) -> dict[str, Any]:
        """The Web API's answer to `method` with `args` (not recorded)."""
        with self._lock:
            return self.api.call(method, args, token)

    def hold(self, method: str, phase: str) -> None:
        """Hold calls to `method` "before" recording them or "after" answering them."""
        if phase not in ("before", "after"):
            raise ValueError("phase is 'before' or 'after'")
        with self._lock:
            self.holds[method] = phase
            self._dropping.discard(method)

    def release(self, method: str, *, drop: bool = False) -> None:
        """Stop holding `method`. With `drop`, requests held "before" are never recorded:
        they answer 503, as if they never reached Slack."""
        with self._lock:
            self.holds.pop(method, None)
            if drop:
                self._dropping.add(method)

    def wait_held(self, method: str, count: int = 1, timeout: float = 30) -> None:
        """Block until `count` calls of `method` are being held."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._held[method] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self._held[method]} call(s) to {method} held, expected {count}"
                    )
                self._changed.wait(left)

    def wait_idle(self, url: str | None = None, timeout: float = 30) -> None:
        """Block until no request is being handled (every request that reached the handlers
        has been recorded and answered, or dropped).

        With the fake's `url`, one request of our own is answered first: bytes a client sent
        before that (say, a process that has since exited) have reached a handler by then.
        """
        if url is not None:
            httpx.get(f"{url}/_calls", params={"method": "-"}, timeout=timeout).raise_for_status()
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self._in_flight} request(s) still being handled")
                self._changed.wait(left)

    def _enter(self) -> None:
        with self._changed:
            self._in_flight += 1

    def _leave(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def delivery_posts(self) -> Counter[int]:
        """How many messages were posted per delivery id (message metadata)."""
        return Counter(
            d for m in self.messages if (d := _delivery_id(m.get("metadata"))) is not None
        )

    async def _wait_hold(self, method: str, phase: str) -> bool:
        """Wait while `method` is held in `phase`; True if the held request must be dropped."""
        with self._changed:
            if self.holds.get(method) != phase:
                return False
            self._held[method] += 1
            self._changed.notify_all()
        try:
            while True:
                with self._lock:
                    if self.holds.get(method) != phase:
                        return method in self._dropping
                await asyncio.sleep(0.02)
        finally:
            with self._changed:
                self._held[method] -= 1

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30) -> list[Call]:
        """Block until `count` calls of `method` were recorded; return them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(
                        f"expected {count} call(s) to {method}, got {len(found)}; seen: {seen}"
                    )
                self._changed.wait(left)

    def _record(self, method: str, args: dict[str, Any]) -> None:
        with self._changed:
            self.calls.append(Call(method, args, time.monotonic()))
            self._changed.notify_all()


def _delivery_id(metadata: Any) -> int | None:
    if not isinstance(metadata, dict) or metadata.get("event_type") != "meetbot_delivery":
        return None
    value = (metadata.get("event_payload") or {}).get("delivery_id")
    return value if isinstance(value, int) else None


def build_fake_slack_app(state: FakeSlack) -> Starlette:
    """The ASGI app: `/api/<method>`, `/response/<id>` (response_url targets),
    `/oauth/v2/authorize` (approved at once) and `/_calls` (what was recorded)."""

    async def api(request: Request) -> Response:
        state._enter()
        try:
            return await _api(request)
        finally:
            state._leave()

    async def _api(request: Request) -> Response:
        method = request.path_params["method"]
        try:
            args, token = await read_api_request(request)
        except ValueError:
            return JSONResponse({"ok": False, "error": "invalid_json"}, status_code=400)
        if await state._wait_hold(method, "before"):
            return JSONResponse({"ok": False, "error": "dropped"}, status_code=503)
        state._record(method, args)
        left = state.rate_limit.get(method, 0)
        if left:
            state.rate_limit[method] = left - 1
            return JSONResponse(
                {"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": "1"}
            )
        queue = state.fail.get(method)
        if queue:
            return JSONResponse({"ok": False, "error": queue.pop(0)})
        if method == "apps.connections.open":
            if not state.socket_url:
                return JSONResponse({"ok": False, "error": "not_allowed_token_type"})
            return JSONResponse({"ok": True, "url": state.socket_url})
        with state._lock:
            status, answer, headers = state.api.respond(method, args, token)
        await state._wait_hold(method, "after")
        return JSONResponse(answer, status_code=status, headers=headers)

    async def response_url(request: Request) -> Response:
        state._enter()
        try:
            rid = request.path_params["rid"]
            args = parse_api_args(
                await request.body(), request.headers.get("content-type", ""), request.query_params
            )
            state._record("response_url", {**args, "response_id": rid})
            with state._lock:
                # The tests name their response_urls: one is issued when first used.
                if rid not in state.ws.response_urls:
                    state.ws.issue_response_url(rid, channel="", user="")
                try:
                    state.ws.use_response_url(rid)
                except ApiError as exc:
                    return PlainTextResponse(exc.code, status_code=404)
            return PlainTextResponse("ok")
        finally:
            state._leave()

    async def authorize(request: Request) -> Response:
        with state._lock:
            return authorize_page(state.api, request)

    async def recorded(request: Request) -> Response:
        method = request.query_params.get("method")
        with state._lock:
            calls = [c for c in state.calls if method is None or c.method == method]
            return JSONResponse(
                [{"method": c.method, "args": c.args, "wall": c.wall} for c in calls]
            )

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/response/{rid}", response_url, methods=["POST"]),
            Route("/oauth/v2/authorize", authorize, methods=["GET"]),
            Route("/_calls", recorded, methods=["GET"]),
        ]
    )


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers exactly as Slack signs a request body (v0 HMAC-SHA256)."""
    return wire.signed_headers(
        body, secret=secret, timestamp=int(time.time()) if timestamp is None else timestamp
    )


def main() -> None:
    """`python -m tests.fakes.slack_api --port N --users N`: the fake alone (benchmarks, demos)."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", type=int, default=100, help="fixtures U0000… in team T1")
    parser.add_argument("--token", default=BOT_TOKEN, help="team T1's bot token")
    parser.add_argument("--rate-budget", type=float, default=1.0, help="scales Slack's limits")
    args = parser.parse_args()
    state = FakeSlack(rate_budget=args.rate_budget)
    state.install("T1", token=args.token)
    state.add_users(
        *(
            SlackUser(f"U{i:04d}", "T1", f"User {i}", email=f"user{i}@example.com")
            for i in range(args.users)
        )
    )
    uvicorn.run(build_fake_slack_app(state), port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
