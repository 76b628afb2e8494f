"""The composition root: builds the world from Settings and serves it over HTTP.

One Starlette app: `POST /slack/events` (commands, interactivity, events; HTTP mode only,
signed requests only), `GET /slack/install` and `GET /slack/oauth_redirect` (OAuth mode),
`GET /healthz`, `POST /hcm/events` (the vendor's meeting event push; 404 unless
MEETBOT_HCM_WEBHOOK_KEY). Bodies are capped before they are read.
`meetbot serve` is its only caller besides the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.commands import parse_command
from bot.config import ConfigError, Settings
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.webhook import (
    NONCE_SCOPE,
    NONCE_TTL,
    MalformedPushError,
    MeetingPush,
    PushKind,
    RejectedPushError,
    verify_push,
)
from bot.metrics import CONTENT_TYPE, Metrics
from bot.scheduler import Scheduler, StatusListener
from bot.service import DeliveryQueue, MeetingService, StatusChange
from bot.slack.app import build_app
from bot.slack.calls import SlackCalls
from bot.slack.directory import SlackDirectory
from bot.slack.http import SLACK_BODY_LIMIT, BoltApp, SlackEvents, socket_connection
from bot.slack.installs import EncryptedInstallationStore, TeamTokens
from bot.slack.notifier import Notifier, web_clients
from bot.slack.oauth import ROTATE_MINUTES, build_oauth_flow, oauth_routes
from bot.slack.poster import SlackPoster
from bot.slack.priority import AckGate
from storage.db import create_engine, session_factory, upgrade
from storage.repo import Repository
from storage.secrets import SecretBox, load_or_create_key

__all__ = [
    "HCM_BODY_LIMIT",
    "BodyTooLargeError",
    "World",
    "build_http_app",
    "read_body",
    "world",
]

log = logging.getLogger(__name__)

HCM_BODY_LIMIT: Final = 64 * 1024
"""Bytes; a vendor push is well under 1 KiB."""
_NUMBER: Final = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class World:
    """Everything one meetbot process runs."""

    settings: Settings
    engine: AsyncEngine
    service: MeetingService
    bolt: BoltApp
    scheduler: Scheduler
    repo: Repository
    oauth: AsyncOAuthFlow | None = None
    """OAuth mode's install flow (None with one SLACK_BOT_TOKEN)."""


@asynccontextmanager
async def world(
    settings: Settings,
    *,
    gate: AckGate | None = None,
    listeners: Sequence[StatusListener] = (),
    metrics: Metrics | None = None,
) -> AsyncIterator[World]:
    """Migrate the database, then build and start every part; tear down in reverse.

    `listeners` also receive every live-status change (after the card update).
    """
    await asyncio.to_thread(upgrade, settings.database_url)
    # dateparser loads its language data on first use (~100 ms): not in a user's command.
    await asyncio.to_thread(
        parse_command, "tomorrow 3pm", now=datetime.now(UTC), tz=ZoneInfo("UTC")
    )
    keys = (
        settings.secret_key.get_secret_value()
        if settings.secret_key
        else load_or_create_key(settings.data_dir)
    )
    engine = create_engine(settings.database_url)
    box = SecretBox.from_keys(keys)
    repo = Repository(session_factory(engine), box)
    for team_id in await repo.all_workspaces_unreadable_keys():
        log.error(
            "workspace %s: its stored app key cannot be decrypted with MEETBOT_SECRET_KEY; "
            "an admin must enter it again (/meet admin setup)",
            team_id,
        )
    tokens, oauth = _installations(settings, engine, box)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    async with (
        web_clients(tokens or token, settings.slack_api_url) as clients,
        HuaweiMeetingClient(settings.hcm_base_url) as meetings,
    ):
        slack = clients.answers
        service = MeetingService(
            settings=settings, repo=repo, meetings=meetings, directory=SlackDirectory(slack)
        )
        calls = SlackCalls(slack, service, Notifier(slack)) if settings.slack_calls else None
        prepare_card = calls.attach if calls else None
        bolt = build_app(
            settings,
            service=service,
            client=slack,
            gate=gate,
            prepare_card=prepare_card,
            tokens=tokens,
        )
        scheduler = Scheduler(
            settings,
            service=service,
            deliveries=DeliveryQueue(repo),
            poster=SlackPoster(clients.posts, prepare_card=prepare_card),
            listeners=[*listeners, *([calls.on_status] if calls else [])],
            metrics=metrics,
        )
        if metrics is not None:
            scheduler.add_listener(_counting(metrics))
        scheduler.start()
        try:
            yield World(settings, engine, service, bolt, scheduler, repo, oauth)
        finally:
            scheduler.shutdown()
            await engine.dispose()


def _installations(
    settings: Settings, engine: AsyncEngine, box: SecretBox
) -> tuple[TeamTokens | None, AsyncOAuthFlow | None]:
    """OAuth mode's per-team tokens and install flow on our database; (None, None) when one
    SLACK_BOT_TOKEN serves one workspace."""
    if not settings.oauth:
        return None, None
    client_id, secret, _ = settings.oauth_credentials()
    store = EncryptedInstallationStore(client_id=client_id, engine=engine, cipher=box)
    rotator = AsyncTokenRotator(
        client_id=client_id,
        client_secret=secret.get_secret_value(),
        client=AsyncWebClient(base_url=settings.slack_api_url, timeout=10),
    )
    tokens = TeamTokens(store, rotator=rotator, rotate_minutes=ROTATE_MINUTES)
    return tokens, build_oauth_flow(settings, store=store, engine=engine)


def _counting(metrics: Metrics) -> StatusListener:
    async def count(change: StatusChange) -> None:
        metrics.inc("meetbot_status_changes_total", kind=change.kind.value)

    return count


class BodyTooLargeError(Exception):
    """The body is (or claims to be) over the limit; `size` is what is known so far."""

    def __init__(self, size: int) -> None:
        super().__init__(f"body of at least {size} bytes")
        self.size = size


def _number(text: str | None) -> int | None:
    """A plain decimal header value (no sign, space or non-ASCII digit), or None."""
    return int(text) if text is not None and _NUMBER.fullmatch(text) else None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes: a Content-Length over the limit is refused
    before anything is read, and a chunked (or lying) body at the chunk that passes the limit.
    Raises BodyTooLargeError."""
    declared = _number(request.headers.get("content-length"))
    if declared is not None and declared > limit:
        raise BodyTooLargeError(declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError(len(body))
    return bytes(body)


def _refused(what: str, status: int, reason: str, request: Request, size: int) -> Response:
    """Answer a refused request, logging one line about it: never its body."""
    client = request.client.host if request.client else "unknown"
    log.warning("%s refused: %d (%s) from %s, %d bytes", what, status, reason, client, size)
    return JSONResponse({"error": reason}, status)


async def _first_use(repo: Repository, push: MeetingPush) -> None:
    """Refuse a push whose nonce any replica has accepted before (RejectedPushError)."""
    if not await repo.first_sight(scope=NONCE_SCOPE, key=push.nonce, ttl=NONCE_TTL):
        raise RejectedPushError("reused nonce")


def build_http_app(settings: Settings, *, socket_mode: bool = False) -> Starlette:
    """The ASGI app; the world is built in its lifespan.

    In Socket Mode Slack's requests arrive over the socket only: `/slack/events` is not served.
    Over HTTP every Slack request must be signed: ConfigError without SLACK_SIGNING_SECRET.
    """
    state: dict[str, World] = {}
    gate = AckGate()
    metrics = Metrics()
    metrics.gauge("meetbot_slack_requests_awaiting_ack", lambda: gate.pending)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with world(settings, gate=gate, metrics=metrics) as built:
            state["world"] = built
            if not socket_mode:
                yield
                return
            if settings.slack_app_token is None:
                raise ConfigError("missing setting SLACK_APP_TOKEN")
            token = settings.slack_app_token.get_secret_value()
            async with socket_connection(built.bolt, token):
                yield

    async def metrics_text(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def healthz(_: Request) -> Response:
        try:
            async with state["world"].engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            return JSONResponse({"status": "unhealthy", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok"})

    async def hcm_events(request: Request) -> Response:
        if settings.hcm_webhook_key is None:
            return Response(status_code=404)
        try:
            body = await read_body(request, HCM_BODY_LIMIT)
        except BodyTooLargeError as exc:
            return _refused("vendor push", 413, "body too large", request, exc.size)
        try:
            key = settings.hcm_webhook_key.get_secret_value()
            push = verify_push(body, key=key, now=datetime.now(UTC))
            await _first_use(state["world"].repo, push)
        except MalformedPushError as exc:
            return _refused("vendor push", 400, str(exc), request, len(body))
        except RejectedPushError as exc:
            return _refused("vendor push", 401, str(exc), request, len(body))
        if push.kind is PushKind.VERIFY:
            return JSONResponse({"event": push.event, "nonce": push.nonce})
        if push.kind in (PushKind.STARTED, PushKind.ENDED):
            await state["world"].scheduler.apply_push(push)
        return Response(status_code=200)

    if settings.oauth:
        settings.oauth_credentials()  # fail at start, naming what is missing
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route("/hcm/events", hcm_events, methods=["POST"]),
    ]
    if settings.oauth:
        routes += oauth_routes(lambda: state["world"].oauth)
    if not socket_mode:
        settings.require("slack_signing_secret")
        events = SlackEvents(settings, lambda: state["world"].bolt, gate=gate, metrics=metrics)
        guarded = _guarded("Slack request", SLACK_BODY_LIMIT, events.refusal, events.dispatch)
        routes.append(Route("/slack/events", events.acked(guarded), methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def _guarded(
    what: str,
    limit: int,
    refusal: Callable[[Request, bytes], str | None],
    handle: Callable[[Request, bytes], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that reads at most `limit` bytes of body (413 past it), refuses the
    request if `refusal` names a reason (401), and hands the rest to `handle`."""

    async def answer(request: Request) -> Response:
        try:
            body = await read_body(request, limit)
        except BodyTooLargeError as exc:
            return _refused(what, 413, "body too large", request, exc.size)
        reason = refusal(request, body)
        if reason is not None:
            return _refused(what, 401, reason, request, len(body))
        return await handle(request, body)

    return answer
