"""Slack's side of the HTTP edge: the signature pre-check of `POST /slack/events`
(`slack_refusal`), the hand-over of a checked request to Bolt, the ack metrics, and
Socket Mode's connection. The server composes them with its body cap and its one-line
refusals (bot/server.py).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final, TypeAlias
from urllib.parse import parse_qsl

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import (
    to_async_bolt_request,
    to_starlette_response,
)
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings
from bot.metrics import Metrics
from bot.slack.priority import AckGate

__all__ = [
    "SLACK_BODY_LIMIT",
    "SLACK_MAX_SKEW",
    "BoltApp",
    "SlackEvents",
    "slack_malformed",
    "slack_refusal",
    "socket_connection",
]

BoltApp: TypeAlias = AsyncApp
"""The Slack app a process serves (`bot.slack.app.build_app`)."""
Endpoint: TypeAlias = Callable[[Request], Awaitable[Response]]

SLACK_BODY_LIMIT: Final = 1024 * 1024
"""Bytes; Slack's largest requests (a modal's submitted state) are tens of KiB."""
SLACK_MAX_SKEW: Final = 5 * 60
"""Seconds a Slack request timestamp may be off (Slack's own rule, as Bolt applies it)."""
_SECONDS: Final = re.compile(r"[0-9]{1,18}")
"""A request timestamp: plain decimal seconds (no sign, space or non-ASCII digit)."""
_OBJECTS: Final = ("team", "user", "channel", "container", "view", "message", "event")
"""Members of a request that, when present, Slack always sends as objects."""

log = logging.getLogger(__name__)


def slack_refusal(
    headers: Mapping[str, str], body: bytes, *, secret: str, now: float
) -> str | None:
    """Why a request is not a fresh one signed by Slack (one short phrase), or None if it is.

    `headers` must be case-insensitive (Starlette's are); `now` is the Unix time.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "unsigned"
    if not _SECONDS.fullmatch(timestamp):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > SLACK_MAX_SKEW:
        return "stale timestamp"
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return "body is not UTF-8"
    expected = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=text)
    # bytes: compare_digest refuses str with non-ASCII characters
    if expected is None or not hmac.compare_digest(expected.encode(), signature.encode()):
        return "bad signature"
    return None


def slack_malformed(body: str, content_type: str | None) -> str | None:
    """Why a signed request body is not shaped as Slack shapes one (one short phrase), or None.

    Parsed as Bolt parses it; only what Bolt and our listeners read is checked: no string
    holds a NUL; a command names its workspace, user and conversation; an interaction or event
    is a JSON object whose objects, action list and submitted form state have Slack's shapes.
    """
    try:
        if content_type == "application/json" or body.startswith("{"):
            parsed: Any = json.loads(body)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            parsed = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError):
        return "body is not JSON"
    if not isinstance(parsed, dict):
        return "body is not an object"
    if _holds_nul(parsed):  # Slack sends none; PostgreSQL text cannot store one
        return "NUL character"
    if "command" in parsed:
        named = all(parsed.get(key) for key in ("team_id", "user_id", "channel_id"))
        return None if named else "command without its workspace, user or conversation"
    if any(not isinstance(parsed.get(key, {}), dict) for key in _OBJECTS):
        return "malformed object"
    actions = parsed.get("actions", [])
    if not isinstance(actions, list) or not isinstance(parsed.get("authorizations", []), list):
        return "malformed list"
    if any(not isinstance(a, dict) or not isinstance(a.get("action_id"), str) for a in actions):
        return "malformed action"
    state = parsed.get("view", {}).get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(v, dict) for v in block.values())
        for block in values.values()
    ):
        return "malformed form state"
    return None


def _holds_nul(value: Any) -> bool:
    """Whether a parsed request holds U+0000 in any string, key or value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_holds_nul(v) for v in value)


class SlackEvents:
    """`POST /slack/events` on Slack's side. The server reads (and caps) the body, refuses
    what `refusal` names, and hands the rest to `dispatch`; `acked` counts the whole.

    `bolt` gives the app once it is built (in the server's lifespan).
    """

    def __init__(
        self,
        settings: Settings,
        bolt: Callable[[], BoltApp],
        *,
        gate: AckGate,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        secret = settings.slack_signing_secret
        self._secret = secret.get_secret_value() if secret else ""
        self._bolt = bolt
        self._gate = gate
        self._metrics = metrics
        self._clock = clock

    def refusal(self, request: Request, body: bytes) -> str | None:
        """Why the request is not Slack's (see `slack_refusal`), or None."""
        return slack_refusal(request.headers, body, secret=self._secret, now=self._clock())

    async def dispatch(self, request: Request, body: bytes) -> Response:
        """Bolt's answer to a checked request (Bolt checks the signature again); 400 to a
        signed body that is not shaped as Slack shapes one (see `slack_malformed`)."""
        reason = slack_malformed(body.decode(), request.headers.get("content-type"))
        if reason is not None:
            log.warning("Slack request refused: 400 (%s), %d bytes", reason, len(body))
            return JSONResponse({"error": reason}, 400)
        bolt = self._bolt()
        return to_starlette_response(
            await bolt.async_dispatch(to_async_bolt_request(request, body))
        )

    def acked(self, answer: Endpoint) -> Endpoint:
        """`answer`, counted as waiting for its ack while it runs, timed and counted by status."""
        gate, metrics = self._gate, self._metrics

        async def slack_events(request: Request) -> Response:
            gate.enter()
            started = time.perf_counter()
            status = 500
            try:
                response = await answer(request)
                status = response.status_code
                return response
            finally:
                gate.leave()
                metrics.observe("meetbot_slack_ack_seconds", time.perf_counter() - started)
                metrics.inc("meetbot_slack_requests_total", status=str(status))

        return slack_events


@asynccontextmanager
async def socket_connection(bolt: BoltApp, app_token: str) -> AsyncIterator[None]:
    """Slack's requests over the app's own websocket while the block runs."""
    socket = AsyncSocketModeHandler(bolt, app_token)
    await socket.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it untyped
    try:
        yield
    finally:
        await socket.close_async()  # type: ignore[no-untyped-call]
