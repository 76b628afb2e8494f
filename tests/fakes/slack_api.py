"""A local fake of the Slack Web API that records every call, plus signed-request helpers.

Served over real HTTP (see `serve_asgi`); answers are shaped like Slack's. The bot reaches
it through MEETBOT_SLACK_API_URL. `response_url`s handed to the bot point here too.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"


@dataclass(frozen=True)
class SlackUser:
    """A users.info fixture."""

    id: str
    team_id: str
    name: str
    tz: str = "America/Los_Angeles"
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False

    def as_slack(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"real_name": self.name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name.lower(),
            "real_name": self.name,
            "tz": self.tz,
            "tz_label": self.tz,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "deleted": False,
            "profile": profile,
        }


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
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

    def add_users(self, *users: SlackUser) -> None:
        for user in users:
            self.users[user.id] = user

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[Call]:
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
                return {"ok": True, "channel": channel, "ts": ts, "message": message}
            case "chat.update":
                return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": self._next_ts()}
            case "conversations.open":
                users = str(args.get("users", ""))
                return {"ok": True, "channel": {"id": "D" + users.replace(",", "")}}
            case "views.open" | "views.update":
                return {"ok": True, "view": {"id": "V1", **_as_dict(args.get("view"))}}
            case _:
                return {"ok": True}


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if isinstance(value, Mapping) else {}


async def _parse_args(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        parsed = json.loads(body or b"{}")
        return parsed if isinstance(parsed, dict) else {}
    args: dict[str, Any] = dict(urllib.parse.parse_qsl(body.decode()))
    args.update(request.query_params)
    for key in ("blocks", "attachments", "view", "metadata"):
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def build_fake_slack_app(state: FakeSlack) -> Starlette:
    """The ASGI app: `/api/<method>` and `/response/<id>` (response_url targets)."""

    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        args = await _parse_args(request)
        state._record(method, args)
        left = state.rate_limit.get(method, 0)
        if left:
            state.rate_limit[method] = left - 1
            return JSONResponse(
                {"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": "1"}
            )
        return JSONResponse(state.answer(method, args))

    async def response_url(request: Request) -> Response:
        args = await _parse_args(request)
        args["response_id"] = request.path_params["rid"]
        state._record("response_url", args)
        return Response("ok")

    async def recorded(request: Request) -> Response:
        method = request.query_params.get("method")
        with state._lock:
            calls = [c for c in state.calls if method is None or c.method == method]
            return JSONResponse([{"method": c.method, "args": c.args, "wall": c.wall} for c in calls])

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
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def slash_command_body(
    text: str,
    *,
    user_id: str,
    team_id: str,
    channel_id: str = "C1",
    response_url: str,
    trigger_id: str = "trigger-1",
) -> str:
    """A form-encoded `/meet` request body; `text` exactly as Slack would send it.

    With should_escape: true Slack escapes `&`, `<`, `>` in what the user typed (see
    `slack_escape`) and sends mentions as `<@U123|name>`.
    """
    return urllib.parse.urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": team_id.lower(),
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/meet",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def slack_escape(typed: str) -> str:
    """What Slack does to literal text a user typed before sending it to the app."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def interaction_body(payload: Mapping[str, Any]) -> str:
    """A form-encoded interactivity request (`payload=<json>`), as Slack sends it."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


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
