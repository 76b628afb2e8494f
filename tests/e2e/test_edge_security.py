"""The HTTP edge under hostile requests: what is served in Socket Mode, unsigned and malformed
Slack requests, oversized bodies."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.config import ConfigError
from bot.server import build_http_app
from bot.slack import blocks
from tests.conftest import Database
from tests.e2e.conftest import ADA, ALICE, Bot, make_settings, running_bot
from tests.e2e.processes import Fleet, Served, fleet_env
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import (
    FakeSlack,
    interaction_body,
    signed_headers,
    slash_command_body,
)
from tests.fakes.socket_mode import serve_socket_mode

WEBHOOK_KEY = "subscriber-key"
SECRET_KEY = Fernet.generate_key().decode()
MiB = 1024 * 1024


@pytest.fixture
def bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Iterator[Bot]:
    """The bot in HTTP mode with the vendor push on; the poll effectively off."""
    with running_bot(
        sandbox,
        fake_slack,
        empty_database.url,
        tmp_path,
        hcm_webhook_key=SecretStr(WEBHOOK_KEY),
        secret_key=SecretStr(SECRET_KEY),
        status_poll_seconds=3600,
    ) as running:
        yield running


# --- Socket Mode: no HTTP door for Slack requests ------------------------------------------


def test_socket_mode_does_not_serve_slack_requests_over_http(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> None:
    slack, slack_url = fake_slack
    with serve_socket_mode() as (socket_slack, socket_url):
        slack.socket_url = socket_url
        settings = make_settings(
            slack_url=slack_url,
            sandbox_url=sandbox.base_url,
            database_url=empty_database.url,
            data_dir=tmp_path,
            slack_signing_secret=None,
            slack_app_token=SecretStr("xapp-1-test"),
        )
        with serve_asgi(build_http_app(settings, socket_mode=True), lifespan=True) as bot_url:
            assert socket_slack.connected.wait(10), "the bot never opened the socket"
            unsigned = slash_command_body(
                "now Unsigned sync",
                user_id=ALICE.id,
                team_id=ALICE.team_id,
                response_url=f"{slack_url}/response/unsigned",
            )
            answer = httpx.post(
                f"{bot_url}/slack/events",
                content=unsigned,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            # A genuine command over the socket afterwards: its card is the only one.
            envelope = socket_slack.send(
                "slash_commands",
                {
                    "team_id": ALICE.team_id,
                    "channel_id": "C1",
                    "user_id": ALICE.id,
                    "command": "/meet",
                    "text": "now Socket sync",
                    "api_app_id": "A1",
                    "response_url": f"{slack_url}/response/socket",
                    "trigger_id": "trigger-socket",
                },
            )
            socket_slack.ack(envelope)
            slack.wait_for("chat.postMessage")
    assert answer.status_code in (404, 405)
    assert len(sandbox.meetings()) == 1
    assert "Unsigned" not in json.dumps(sandbox.meetings())
    assert all(c.args["response_id"] != "unsigned" for c in slack.calls_to("response_url"))


def test_http_mode_is_not_built_without_a_signing_secret(tmp_path: Path) -> None:
    settings = make_settings(
        slack_url="http://127.0.0.1:9",
        sandbox_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'meetbot.db'}",
        data_dir=tmp_path,
        slack_signing_secret=None,
    )
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        build_http_app(settings)


# --- refused Slack requests in the logs of a real `meetbot serve` ---------------------------


@pytest.fixture
def served(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Iterator[Served]:
    env = fleet_env(
        slack_url=fake_slack[1],
        sandbox_url=sandbox.base_url,
        database_url=empty_database.url,
        data_dir=tmp_path / "data",
    )
    with Fleet(env, tmp_path).serving("bot") as running:
        yield running


def _logged(served: Served, needle: str, within: float = 10) -> str:
    """The process's output once it contains `needle`."""
    deadline = time.monotonic() + within
    while needle not in (output := served.output()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} never logged; output:\n{output}")
        time.sleep(0.05)
    return output


def _admin_setup_submission(app_key: str) -> str:
    """An admin's setup form as Slack submits it, the app key typed in."""

    def typed(block_id: str, value: str) -> dict[str, Any]:
        return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}

    return interaction_body(
        {
            "type": "view_submission",
            "team": {"id": ADA.team_id, "domain": "t1"},
            "user": {"id": ADA.id, "team_id": ADA.team_id, "name": ADA.name},
            "api_app_id": "A1",
            "trigger_id": "trigger-view",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": blocks.ADMIN_SETUP_MODAL,
                "private_metadata": "C1",
                "state": {
                    "values": {
                        **typed(blocks.ADMIN_APP_ID, "typed-app-id"),
                        **typed(blocks.ADMIN_APP_KEY, app_key),
                        **typed(blocks.ADMIN_CORP_ID, ""),
                    }
                },
            },
        }
    )


@pytest.mark.slow
def test_a_stale_request_is_refused_in_one_line_without_its_body(served: Served) -> None:
    app_key = f"typed-app-key-{uuid.uuid4().hex}"
    body = _admin_setup_submission(app_key)
    stale = int(time.time()) - 10 * 60
    answer = httpx.post(
        f"{served.url}/slack/events", content=body, headers=signed_headers(body, timestamp=stale)
    )
    assert answer.status_code == 401
    line = f"Slack request refused: 401 (stale timestamp) from 127.0.0.1, {len(body)} bytes"
    output = _logged(served, line)
    assert app_key not in output
    assert blocks.ADMIN_SETUP_MODAL not in output, "no part of the body is logged"


@pytest.mark.slow
def test_a_non_numeric_timestamp_is_refused_in_one_line_without_a_traceback(
    served: Served,
) -> None:
    body = slash_command_body(
        "now Sync", user_id=ALICE.id, team_id=ALICE.team_id, response_url="http://x/r"
    )
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"}
    answer = httpx.post(f"{served.url}/slack/events", content=body, headers=headers)
    assert answer.status_code == 401
    output = _logged(served, "Slack request refused: 401 (malformed timestamp)")
    assert len([line for line in output.splitlines() if "refused" in line]) == 1
    assert "Traceback" not in output


# --- body size limits and malformed JSON ---------------------------------------------------


def _raw_post(url: str, path: str, *, declared: int, sent: bytes) -> str:
    """POST `sent` while claiming Content-Length `declared`; the status line of the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n".encode()
            + sent
        )
        return conn.makefile("rb").readline().decode().strip()


@pytest.mark.parametrize("path", ["/slack/events", "/hcm/events"], ids=["slack", "hcm"])
def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(bot: Bot, path: str) -> None:
    status = _raw_post(bot.harness.bot_url, path, declared=100 * MiB, sent=b"{}")
    assert status == "HTTP/1.1 413 Request Entity Too Large"


@pytest.mark.parametrize(
    ("path", "limit"), [("/slack/events", MiB), ("/hcm/events", 64 * 1024)], ids=["slack", "hcm"]
)
def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    bot: Bot, path: str, limit: int
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(2 * limit // 4096 + 1):
            yield b" " * 4096

    answer = bot.harness.http.post(f"{bot.harness.bot_url}{path}", content=chunks())
    assert answer.status_code == 413


def test_a_body_at_the_limit_is_read(bot: Bot) -> None:
    body = "x" * MiB
    answer = bot.harness.http.post(
        f"{bot.harness.bot_url}/slack/events", content=body, headers=signed_headers(body)
    )
    assert answer.status_code != 413
