"""The composition root: builds the world from Settings and serves it over HTTP.

One Starlette app: `POST /slack/events` (commands, interactivity, events), `GET /healthz`,
`POST /hcm/events` (the vendor's meeting event push; 404 unless MEETBOT_HCM_WEBHOOK_KEY).
`meetbot serve` is its only caller besides the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.commands import parse_command
from bot.config import ConfigError, Settings
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.webhook import MalformedPushError, NonceCache, RejectedPushError, verify_push
from bot.metrics import CONTENT_TYPE, Metrics
from bot.scheduler import Scheduler, StatusListener
from bot.service import MeetingService, StatusChange
from bot.slack.app import build_app
from bot.slack.calls import SlackCalls
from bot.slack.directory import SlackDirectory
from bot.slack.notifier import Notifier, web_client
from bot.slack.priority import AckGate
from storage.db import create_engine, session_factory, upgrade
from storage.repo import Repository
from storage.secrets import SecretBox, load_or_create_key

__all__ = ["World", "build_http_app", "world"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """Everything one meetbot process runs."""

    settings: Settings
    engine: AsyncEngine
    service: MeetingService
    bolt: AsyncApp
    scheduler: Scheduler


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
    repo = Repository(session_factory(engine), SecretBox.from_keys(keys))
    for team_id in await repo.all_workspaces_unreadable_keys():
        log.error(
            "workspace %s: its stored app key cannot be decrypted with MEETBOT_SECRET_KEY; "
            "an admin must enter it again (/meet admin setup)",
            team_id,
        )
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
        HuaweiMeetingClient(settings.hcm_base_url) as meetings,
    ):
        slack = web_client(token, settings.slack_api_url, session=session)
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
        )
        posting = web_client(
            token, settings.slack_api_url, session=session, retry_connection_errors=False
        )
        scheduler = Scheduler(
            settings,
            service=service,
            notifier=Notifier(posting, prepare_card=prepare_card),
            listeners=[*listeners, *([calls.on_status] if calls else [])],
            metrics=metrics,
        )
        if metrics is not None:
            scheduler.add_listener(_counting(metrics))
        scheduler.start()
        try:
            yield World(settings, engine, service, bolt, scheduler)
        finally:
            scheduler.shutdown()
            await engine.dispose()


def _counting(metrics: Metrics) -> StatusListener:
    async def count(change: StatusChange) -> None:
        metrics.inc("meetbot_status_changes_total", kind=change.kind.value)

    return count


def build_http_app(settings: Settings, *, socket_mode: bool = False) -> Starlette:
    """The ASGI app; the world is built in its lifespan."""
    state: dict[str, World] = {}
    handlers: dict[str, AsyncSlackRequestHandler] = {}
    gate = AckGate()
    metrics = Metrics()
    metrics.gauge("meetbot_slack_requests_awaiting_ack", lambda: gate.pending)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with world(settings, gate=gate, metrics=metrics) as built:
            state["world"] = built
            handlers["slack"] = AsyncSlackRequestHandler(built.bolt)
            if not socket_mode:
                yield
                return
            if settings.slack_app_token is None:
                raise ConfigError("missing setting SLACK_APP_TOKEN")
            token = settings.slack_app_token.get_secret_value()
            socket = AsyncSocketModeHandler(built.bolt, token)
            await socket.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it untyped
            try:
                yield
            finally:
                await socket.close_async()  # type: ignore[no-untyped-call]

    async def slack_events(request: Request) -> Response:
        gate.enter()
        started = time.perf_counter()
        status = 500
        try:
            response = await handlers["slack"].handle(request)
            status = response.status_code
            return response
        finally:
            gate.leave()
            metrics.observe("meetbot_slack_ack_seconds", time.perf_counter() - started)
            metrics.inc("meetbot_slack_requests_total", status=str(status))

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

    nonces = NonceCache()

    async def hcm_events(request: Request) -> Response:
        if settings.hcm_webhook_key is None:
            return Response(status_code=404)
        try:
            push = verify_push(
                await request.body(),
                key=settings.hcm_webhook_key.get_secret_value(),
                now=datetime.now(UTC),
                nonces=nonces,
            )
        except MalformedPushError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except RejectedPushError as exc:
            log.warning("vendor push refused: %s", exc)
            return JSONResponse({"error": str(exc)}, 401)
        if push.event == "meeting.verify":
            return JSONResponse({"event": push.event, "nonce": push.nonce})
        if push.event in ("meeting.started", "meeting.end", "meeting.conclude"):
            await state["world"].scheduler.apply_push(push)
        return Response(status_code=200)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_text, methods=["GET"]),
            Route("/hcm/events", hcm_events, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
