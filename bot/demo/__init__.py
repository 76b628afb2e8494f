"""`meetbot demo`: the meeting sandbox, the bot and a Slack emulator page in one process.

No credentials and no network: secrets are generated per run, everything listens on loopback,
and the bot is the real `build_http_app` pointed at the sandbox and at the emulator's Web API.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import uvicorn
from pydantic import SecretStr
from starlette.types import ASGIApp

from bot.config import Settings
from bot.demo.emulator import Emulator, EmulatorConfig
from bot.demo.guard import LOOPBACK
from bot.sandbox import Sandbox, SandboxApp

__all__ = ["DEFAULT_DATA_DIR", "DemoUrls", "demo_settings", "run_demo", "serve_demo"]

DEFAULT_DATA_DIR: Final = Path(".meetbot/demo")
DEMO_REMINDER_MINUTES: Final = (2, 0)


@dataclass(frozen=True)
class DemoUrls:
    """Where the demo's three servers listen."""

    page: str
    bot: str
    sandbox: str


def demo_settings(
    *,
    data_dir: Path,
    slack_api_url: str,
    sandbox_url: str,
    app_id: str,
    app_key: str,
    bot_token: str,
    signing_secret: str,
) -> Settings:
    """The bot's settings in the demo: local services, SQLite, intervals of a few seconds."""
    return Settings(
        _env_file=None,  # an operator's .env must not point the demo at a real workspace
        slack_bot_token=SecretStr(bot_token),
        slack_signing_secret=SecretStr(signing_secret),
        slack_api_url=slack_api_url,
        hcm_base_url=sandbox_url,
        hcm_app_id=app_id,
        hcm_app_key=SecretStr(app_key),
        hcm_corp_id=None,
        database_url=f"sqlite:///{data_dir / 'meetbot.db'}",
        data_dir=data_dir,
        tick_seconds=2,
        status_poll_seconds=3,
        claim_seconds=10,
        reminder_minutes=DEMO_REMINDER_MINUTES,
    )


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `serve_demo` (three share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _fresh(data_dir: Path) -> Path:
    """Forget the last demo's meetings: the sandbox and the conversation live in memory only."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("meetbot.db", "meetbot.db-wal", "meetbot.db-shm", "meetbot.db-journal"):
        (data_dir / name).unlink(missing_ok=True)
    return data_dir


async def serve_demo(
    *,
    data_dir: Path = DEFAULT_DATA_DIR,
    host: str = LOOPBACK,
    port: int = 8080,
    on_ready: Callable[[DemoUrls], None] = lambda _: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the demo until `stop` is set (or SIGINT/SIGTERM); `on_ready` once all three listen."""
    data_dir = await asyncio.to_thread(_fresh, data_dir)
    page_sock = _listen(host, port)
    bot_sock, sandbox_sock = _listen(LOOPBACK, 0), _listen(LOOPBACK, 0)
    page_port = page_sock.getsockname()[1]
    local = f"http://{LOOPBACK}:{page_port}"
    bot_url = f"http://{LOOPBACK}:{bot_sock.getsockname()[1]}"
    sandbox_url = f"http://{LOOPBACK}:{sandbox_sock.getsockname()[1]}"

    app_id, app_key = f"demo-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    bot_token = f"xoxb-demo-{secrets.token_hex(12)}"
    signing_secret = secrets.token_hex(16)
    settings = demo_settings(
        data_dir=data_dir,
        slack_api_url=f"{local}/api/",
        sandbox_url=sandbox_url,
        app_id=app_id,
        app_key=app_key,
        bot_token=bot_token,
        signing_secret=signing_secret,
    )
    from bot.server import build_http_app  # the world is heavy: import it only to run

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Signal handlers exist only for the main thread, and not on Windows' event loop.
    if threading.current_thread() is threading.main_thread() and sys.platform != "win32":
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    config = EmulatorConfig(
        events_url=f"{bot_url}/slack/events",
        signing_secret=signing_secret,
        bot_token=bot_token,
        sandbox_url=sandbox_url,
        public_url=local,
        host=host,
    )
    async with Emulator(config) as emulator:
        sandbox = Sandbox([SandboxApp(app_id, app_key)])
        plan: list[tuple[ASGIApp, socket.socket, bool]] = [
            (sandbox.app, sandbox_sock, False),
            (emulator.app, page_sock, False),
            (build_http_app(settings), bot_sock, True),
        ]
        servers = [
            _Server(
                uvicorn.Config(
                    app,
                    lifespan="on" if lifespan else "off",
                    log_level="warning",
                    access_log=False,
                    timeout_graceful_shutdown=1,
                )
            )
            for app, _, lifespan in plan
        ]
        tasks = [
            asyncio.create_task(server.serve(sockets=[sock]))
            for server, (_, sock, _) in zip(servers, plan, strict=True)
        ]
        try:
            while not all(server.started for server in servers):
                if any(task.done() for task in tasks):
                    raise RuntimeError("a demo server failed to start (see the log above)")
                await asyncio.sleep(0.05)
            shown = local if host in {LOOPBACK, "0.0.0.0", "::"} else f"http://{host}:{page_port}"  # noqa: S104 -- compared, not bound
            on_ready(DemoUrls(page=f"{shown}/", bot=bot_url, sandbox=sandbox_url))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
        finally:
            emulator.close()
            for server in reversed(servers):
                server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)
            for sock in (page_sock, bot_sock, sandbox_sock):
                sock.close()


def run_demo(
    *,
    data_dir: Path = DEFAULT_DATA_DIR,
    host: str = LOOPBACK,
    port: int = 8080,
    on_ready: Callable[[DemoUrls], None] = lambda _: None,
) -> None:
    """`serve_demo` in a fresh event loop, until Ctrl-C."""
    asyncio.run(serve_demo(data_dir=data_dir, host=host, port=port, on_ready=on_ready))
