"""End-to-end harness: the bot's HTTP server, a fake Slack Web API and the vendor sandbox,
each on its own loopback port; requests are signed exactly as Slack signs them."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.config import Settings
from bot.sandbox import SandboxApp
from bot.server import build_http_app
from tests.conftest import Database
from tests.e2e.inside import Inside, capture_world
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.sandbox import RunningSandbox, running_sandbox
from tests.fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Call,
    FakeSlack,
    SlackUser,
    build_fake_slack_app,
    interaction_body,
    signed_headers,
    slash_command_body,
)
from tests.fakes.socket_mode import SocketModeSlack, serve_socket_mode

APP_ID = "meetbot-e2e-app"
APP_KEY = "meetbot-e2e-app-key"

ALICE = SlackUser("UALICE", "T1", "Alice", tz="America/Los_Angeles", email="alice@example.com")
BOB = SlackUser("UBOB", "T1", "Bob", tz="Europe/London", email="Bob@Example.com")
CHEN = SlackUser("UCHEN", "T1", "陈", tz="Asia/Shanghai", email="chen@example.com")
ADA = SlackUser("UADA", "T1", "Ada", tz="America/New_York", email="ada@example.com", is_admin=True)
NOMAIL = SlackUser("UNOMAIL", "T1", "Nomail", tz="UTC")
ZED = SlackUser("UZED", "T2", "Zed", tz="Asia/Tokyo", email="zed@t2.example")
BOT_USER = SlackUser("UBOTTY", "T1", "Botty", is_bot=True)
CHANNELS = ("C0", "C2", "C3", "CBUSY", "CQUIET", "C9MEET")
"""Besides #general (C1): the channels the tests post in."""


@dataclass
class Harness:
    """Drives the running bot like Slack does and shows what it did."""

    bot_url: str
    slack_url: str
    slack: FakeSlack
    sandbox: RunningSandbox
    http: httpx.Client
    inside: Inside
    """The running bot's own signals (job runs, lazy work): what to wait for before checking
    that nothing more happened."""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def post(self, body: str) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        return self.http.post(f"{self.bot_url}/slack/events", content=body, headers=headers)

    def command(
        self, text: str, *, user: SlackUser = ALICE, channel: str = "C1"
    ) -> tuple[httpx.Response, str]:
        """Send `/meet text` (already in Slack's escaped form); the response id to wait on."""
        rid = f"r{next(self._ids)}"
        known = self.slack.ws.channels.get(channel)
        body = slash_command_body(
            text,
            user_id=user.id,
            team_id=user.team_id,
            channel_id=channel,
            channel_name=known.slash_name if known else "general",
            response_url=f"{self.slack_url}/response/{rid}",
            trigger_id=self.slack.issue_trigger(user.id),
        )
        return self.post(body), rid

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: SlackUser = ALICE,
        channel: str = "C1",
        message_ts: str = "1.000001",
    ) -> tuple[httpx.Response, str]:
        """Press a button as `user` (a `block_actions` payload)."""
        rid = f"r{next(self._ids)}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": user.team_id, "domain": user.team_id.lower()},
            "user": {"id": user.id, "team_id": user.team_id, "name": user.name},
            "api_app_id": "A1",
            "token": "deprecated",
            "trigger_id": self.slack.issue_trigger(user.id),
            "channel": {"id": channel, "name": "general"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "message": {"ts": message_ts, "text": "card"},
            "response_url": f"{self.slack_url}/response/{rid}",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
        return self.post(interaction_body(payload)), rid

    def submit_view(self, view: dict[str, Any], *, user: SlackUser = ALICE) -> httpx.Response:
        """Submit a modal as `user` (a `view_submission` payload)."""
        payload = {
            "type": "view_submission",
            "team": {"id": user.team_id, "domain": user.team_id.lower()},
            "user": {"id": user.id, "team_id": user.team_id, "name": user.name},
            "api_app_id": "A1",
            "token": "deprecated",
            "trigger_id": "trigger-view",
            "view": {"id": "V1", "team_id": user.team_id, "type": "modal", **view},
        }
        return self.post(interaction_body(payload))

    def replies(self, rid: str, count: int = 1, timeout: float = 30) -> list[Call]:
        """Wait for `count` response_url posts answering request `rid`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.slack.calls_to("response_url") if c.args["response_id"] == rid]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} answer(s) to {rid}, got {found}")
            time.sleep(0.02)

    def reply_text(self, rid: str, count: int = 1) -> str:
        """Everything the bot answered to `rid`, as one string (text and blocks)."""
        return " ".join(str(c.args) for c in self.replies(rid, count))

    def posts(self, channel: str | None = None) -> list[Call]:
        calls = self.slack.calls_to("chat.postMessage")
        return [c for c in calls if channel is None or c.args.get("channel") == channel]


def make_settings(
    *, slack_url: str, sandbox_url: str, database_url: str, data_dir: Path, **overrides: Any
) -> Settings:
    """Settings as an operator would set them, pointed at the local fakes."""
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": f"{slack_url}/api/",
        "hcm_base_url": sandbox_url,
        "hcm_app_id": APP_ID,
        "hcm_app_key": SecretStr(APP_KEY),
        "database_url": database_url,
        "secret_key": SecretStr(Fernet.generate_key().decode()),
        "data_dir": data_dir,
        "tick_seconds": 1,
        "status_poll_seconds": 2,
        "claim_seconds": 1,
        **overrides,
    }
    return Settings(**values)


def serve_sandbox(**sandbox_kwargs: Any) -> contextlib.AbstractContextManager[RunningSandbox]:
    """The vendor sandbox with the e2e app (`clock=frozen_clock()` for exact vendor times)."""
    return running_sandbox(SandboxApp(APP_ID, APP_KEY), **sandbox_kwargs)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox() as running:
        yield running


def manifest_scopes() -> list[str]:
    """The bot scopes manifest.yml asks for: what an installation of this app holds."""
    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text("utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


@pytest.fixture
def fake_slack() -> Iterator[tuple[FakeSlack, str]]:
    state = FakeSlack()
    state.install("T1", scopes=manifest_scopes(), token=BOT_TOKEN)
    state.add_users(ALICE, BOB, CHEN, ADA, NOMAIL, ZED, BOT_USER)
    for channel in CHANNELS:  # public channels of T1 with the bot and everyone in them
        state.add_channel(channel)
    with serve_asgi(build_fake_slack_app(state)) as url:
        yield state, url


@dataclass
class Bot:
    """A running bot (in-process server) and the database behind it."""

    harness: Harness
    database_url: str


@contextlib.contextmanager
def running_bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    database_url: str,
    data_dir: Path,
    **overrides: Any,
) -> Iterator[Bot]:
    """Serve the bot in-process against the fakes with `overrides` on top of make_settings."""
    state, slack_url = fake_slack
    settings = make_settings(
        slack_url=slack_url,
        sandbox_url=sandbox.base_url,
        database_url=database_url,
        data_dir=data_dir,
        **overrides,
    )
    with (
        capture_world() as inside,
        serve_asgi(build_http_app(settings), lifespan=True) as bot_url,
        httpx.Client(timeout=30) as http,
    ):
        harness = Harness(bot_url, slack_url, state, sandbox, http, inside())
        yield Bot(harness, database_url)


@pytest.fixture
def harness(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Iterator[Harness]:
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path) as bot:
        yield bot.harness


@contextlib.contextmanager
def socket_mode_bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    database_url: str,
    data_dir: Path,
) -> Iterator[tuple[SocketModeSlack, str]]:
    """The bot in Socket Mode (no signing secret, an app token), connected to a local socket
    endpoint; yields that endpoint and the bot's own HTTP URL."""
    slack, slack_url = fake_slack
    with serve_socket_mode() as (socket, socket_url):
        slack.socket_url = socket_url
        settings = make_settings(
            slack_url=slack_url,
            sandbox_url=sandbox.base_url,
            database_url=database_url,
            data_dir=data_dir,
            slack_signing_secret=None,
            slack_app_token=SecretStr("xapp-1-test"),
        )
        with serve_asgi(build_http_app(settings, socket_mode=True), lifespan=True) as bot_url:
            assert socket.connected.wait(10), "the bot never opened the socket"
            yield socket, bot_url
