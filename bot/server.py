"""The composition root: builds the world from Settings and serves it over HTTP.

One Starlette app: `POST /slack/events` (commands, interactivity, events), `GET /healthz`.
`meetbot serve` is its only caller besides the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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

from bot.config import ConfigError, Settings
from bot.huawei.client import HuaweiMeetingClient
from bot.scheduler import Scheduler
from bot.service import MeetingService
from bot.slack.app import build_app
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
    settings: Settings, *, socket_mode: bool = False, gate: AckGate | None = None
) -> AsyncIterator[World]:
    """Migrate the database, then build and start every part; tear down in reverse."""
    await asyncio.to_thread(upgrade, settings.database_url)
    keys = (
        settings.secret_key.get_secret_value()
        if settings.secret_key
        else load_or_create_key(settings.data_dir)
    )
    engine = create_engine(settings.database_url)
    repo = Repository(session_factory(engine), SecretBox.from_keys(keys))
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
        HuaweiMeetingClient(settings.hcm_base_url) as meetings,
    ):
        slack = web_client(token, settings.slack_api_url, session=session)
        service = MeetingService(
            settings=settings, repo=repo, meetings=meetings, directory=SlackDirectory(slack)
        )
        bolt = build_app(
            settings, service=service, client=slack, socket_mode=socket_mode, gate=gate
        )
        scheduler = Scheduler(settings, service=service, notifier=Notifier(slack))
        scheduler.start()
        try:
            yield World(settings, engine, service, bolt, scheduler)
        finally:
            scheduler.shutdown()
            await engine.dispose()


def build_http_app(settings: Settings, *, socket_mode: bool = False) -> Starlette:
    """The ASGI app; the world is built in its lifespan."""
    state: dict[str, World] = {}
    handlers: dict[str, AsyncSlackRequestHandler] = {}
    gate = AckGate()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with world(settings, socket_mode=socket_mode, gate=gate) as built:
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
        try:
            return await handlers["slack"].handle(request)
        finally:
            gate.leave()

    async def healthz(_: Request) -> Response:
        try:
            async with state["world"].engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            return JSONResponse({"status": "unhealthy", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
