"""A local fake of the Slack Web API that records every call, plus signed-request helpers.

The request shaping and signing are the product's (`bot.demo.wire`), re-exported here.

Served over real HTTP (see `serve_asgi`); answers are shaped like Slack's. The bot reaches
it through MEETBOT_SLACK_API_URL. `response_url`s handed to the bot point here too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.demo import wire
from bot.demo.wire import (
    SlackUser,
    interaction_body,
    parse_api_args,
    slack_escape,
    slash_command_body,
)

__all__ = [
    "BOT_TOKEN",
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
SIGNING_SECRET = "test-signing-secret"


@dataclass
class Call:
    """One recorded Web API call or response_url post."""

    method: str
    args: dict[str, Any]
    at: float
    wall: float = field(default_factory=time.time)


@dataclass
class FakeSlack:
    """State of the fake: fixtures, recorded calls, injected failures."""

    users: dict[str, SlackUser] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, list[str]] = field(default_factory=dict)
    """Web API method -> queue of Slack error codes to answer with, one per call."""
    rate_limit: dict[str, int] = field(default_factory=dict)
    """Web API method -> number of calls to answer with HTTP 429 (Retry-After: 1)."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Every message posted (chat.postMessage answered ok), as conversations.history shows it."""
    holds: dict[str, str] = field(default_factory=dict)
    """Web API method -> "before" (hold the request before it is recorded) or "after" (record
    and post it, then hold the answer). See `hold` and `release`."""
    _held: Counter[str] = field(default_factory=Counter)
    _in_flight: int = 0
    _dropping: set[str] = field(default_factory=set)
    socket_url: str | None = None
    """What apps.connections.open hands out (see tests/fakes/socket_mode.py)."""
    call_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Slack call objects made with calls.add, by call ID."""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

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
        with self._lock:
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

    def add_users(self, *users: SlackUser) -> None:
        for user in users:
            self.users[user.id] = user

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

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """The Web API's answer to `method` with `args` (already recorded)."""
        queue = self.fail.get(method)
        if queue:
            return {"ok": False, "error": queue.pop(0)}
        match method:
            case "auth.test":
                return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"}
            case "users.info":
                user = self.users.get(str(args.get("user")))
                if user is None:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": user.as_slack()}
            case "chat.postMessage":
                ts = self._next_ts()
                channel = str(args.get("channel"))
                message = {"type": "message", "ts": ts, "text": args.get("text"), "bot_id": "BBOT"}
                stored = {**message, "channel": channel, "metadata": _as_dict(args.get("metadata"))}
                if args.get("thread_ts"):
                    stored["thread_ts"] = str(args["thread_ts"])
                with self._lock:
                    self.messages.append(stored)
                return {"ok": True, "channel": channel, "ts": ts, "message": message}
            case "conversations.history" | "conversations.replies":
                return self._history(method, args)
            case "chat.update":
                return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": self._next_ts()}
            case "conversations.open":
                users = str(args.get("users", ""))
                return {"ok": True, "channel": {"id": "D" + users.replace(",", "")}}
            case "views.open" | "views.update":
                return {"ok": True, "view": {"id": "V1", **_as_dict(args.get("view"))}}
            case method if method.startswith("calls."):
                return self._calls(method, args)
            case _:
                return {"ok": True}

    def _calls(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """calls.add/info/end/participants.add/remove, keeping each call's participants."""
        with self._lock:
            if method == "calls.add":
                call_id = f"R{next(self._ts):06d}"
                self.call_objects[call_id] = {"id": call_id, "users": [], **args}
                return {"ok": True, "call": self.call_objects[call_id]}
            call = self.call_objects.get(str(args.get("id")))
            if call is None:
                return {"ok": False, "error": "invalid_call_id"}
            users = args.get("users") or []
            users = json.loads(users) if isinstance(users, str) else users
            match method:
                case "calls.end":
                    call["date_end"] = int(time.time())
                    call["duration"] = args.get("duration")
                case "calls.participants.add":
                    call["users"] = [*call["users"], *users]
                case "calls.participants.remove":
                    gone = {u.get("external_id") or u.get("slack_id") for u in users}
                    call["users"] = [
                        u
                        for u in call["users"]
                        if (u.get("external_id") or u.get("slack_id")) not in gone
                    ]
            return {"ok": True, "call": call}

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            found = [
                m for m in self.messages if m["channel"] == channel and float(m["ts"]) > oldest
            ]
        if method == "conversations.history":
            found = [m for m in found if m.get("thread_ts") in (None, m["ts"])]
            found.reverse()  # newest first
        else:
            parent = str(args.get("ts"))
            found = [m for m in found if m["ts"] == parent or m.get("thread_ts") == parent]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = found[start : start + limit]
        shown = [
            {k: v for k, v in m.items() if k != "channel" and (with_metadata or k != "metadata")}
            for m in page
        ]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": shown,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


def _delivery_id(metadata: Any) -> int | None:
    if not isinstance(metadata, dict) or metadata.get("event_type") != "meetbot_delivery":
        return None
    value = (metadata.get("event_payload") or {}).get("delivery_id")
    return value if isinstance(value, int) else None


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if isinstance(value, Mapping) else {}


async def _parse_args(request: Request) -> dict[str, Any]:
    return parse_api_args(
        await request.body(), request.headers.get("content-type", ""), request.query_params
    )


def build_fake_slack_app(state: FakeSlack) -> Starlette:
    """The ASGI app: `/api/<method>` and `/response/<id>` (response_url targets)."""

    async def api(request: Request) -> Response:
        state._enter()
        try:
            return await _api(request)
        finally:
            state._leave()

    async def _api(request: Request) -> Response:
        method = request.path_params["method"]
        args = await _parse_args(request)
        if await state._wait_hold(method, "before"):
            return JSONResponse({"ok": False, "error": "dropped"}, status_code=503)
        state._record(method, args)
        left = state.rate_limit.get(method, 0)
        if left:
            state.rate_limit[method] = left - 1
            return JSONResponse(
                {"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": "1"}
            )
        if method == "apps.connections.open":
            if not state.socket_url:
                return JSONResponse({"ok": False, "error": "not_allowed_token_type"})
            return JSONResponse({"ok": True, "url": state.socket_url})
        answer = state.answer(method, args)
        await state._wait_hold(method, "after")
        return JSONResponse(answer)

    async def response_url(request: Request) -> Response:
        state._enter()
        try:
            args = await _parse_args(request)
            args["response_id"] = request.path_params["rid"]
            state._record("response_url", args)
            return Response("ok")
        finally:
            state._leave()

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
    args = parser.parse_args()
    state = FakeSlack()
    state.add_users(
        *(
            SlackUser(f"U{i:04d}", "T1", f"User {i}", email=f"user{i}@example.com")
            for i in range(args.users)
        )
    )
    uvicorn.run(build_fake_slack_app(state), port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
