"""The HTTP edge under hostile requests: what is served in Socket Mode, unsigned and malformed
Slack requests, oversized bodies, and vendor pushes that are replayed, ambiguous or meant
for another app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.config import ConfigError
from bot.server import build_http_app
from bot.slack import blocks
from storage.db import create_engine, session_factory
from storage.models import MeetingState
from storage.repo import MeetingRow, Repository
from storage.secrets import SecretBox
from tests.conftest import Database
from tests.e2e.conftest import ADA, ALICE, APP_ID, Bot, make_settings, running_bot, socket_mode_bot
from tests.e2e.processes import Fleet, Served, fleet_env
from tests.e2e.scheduling import now, seed
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import (
    FakeSlack,
    interaction_body,
    signed_headers,
    slash_command_body,
)
from tests.fakes.vendor_push import push_body

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
    with socket_mode_bot(sandbox, fake_slack, empty_database.url, tmp_path) as (
        socket_slack,
        bot_url,
    ):
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


def _logged(served: Served, needle: str, within: float = 30) -> str:
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


def test_a_deeply_nested_push_is_a_bad_request(bot: Bot) -> None:
    deep = "[" * 30_000 + "]" * 30_000
    answer = bot.harness.http.post(
        f"{bot.harness.bot_url}/hcm/events", content=f'{{"eventInfo": {deep}}}'
    )
    assert answer.status_code == 400


# --- vendor pushes: one reading, one use, one app ------------------------------------------


def _push(
    bot: Bot,
    *,
    info: dict[str, Any] | str,
    app_id: str = APP_ID,
    nonce: str | None = None,
    url: str | None = None,
) -> httpx.Response:
    info_text = info if isinstance(info, str) else json.dumps(info)
    body = push_body(
        info_text,
        key=WEBHOOK_KEY,
        app_id=app_id,
        sent_ms=int(now().timestamp() * 1000),
        nonce=nonce or uuid.uuid4().hex,
    )
    return bot.harness.http.post(f"{url or bot.harness.bot_url}/hcm/events", content=body)


def _started(conference_id: str) -> dict[str, Any]:
    return {
        "event": "meeting.started",
        "timestamp": int(now().timestamp() * 1000),
        "payload": {"meetingInfo": {"meetingID": conference_id}},
    }


def test_a_push_with_a_member_given_twice_is_a_bad_request(bot: Bot) -> None:
    signed = json.dumps({"event": "meeting.verify", "timestamp": 1})
    good = push_body(
        signed, key=WEBHOOK_KEY, app_id=APP_ID, sent_ms=int(now().timestamp() * 1000), nonce="n1"
    )
    # The signature covers the first eventInfo; a lenient parser would act on the second.
    smuggled = good[:-1] + f', "eventInfo": {json.dumps(_started("123"))}}}'
    answer = bot.harness.http.post(f"{bot.harness.bot_url}/hcm/events", content=smuggled)
    assert answer.status_code == 400


def test_a_replayed_push_is_refused_by_every_replica(
    bot: Bot,
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    tmp_path: Path,
) -> None:
    verify = {"event": "meeting.verify", "timestamp": int(now().timestamp() * 1000)}
    with running_bot(
        sandbox,
        fake_slack,
        bot.database_url,
        tmp_path,
        hcm_webhook_key=SecretStr(WEBHOOK_KEY),
        secret_key=SecretStr(SECRET_KEY),
    ) as replica:
        first = _push(bot, info=verify, nonce="n-replayed")
        again = _push(bot, info=verify, nonce="n-replayed", url=replica.harness.bot_url)
    assert first.status_code == 200
    assert again.status_code == 401


@contextlib.asynccontextmanager
async def _repository(database_url: str) -> AsyncIterator[Repository]:
    """The bot's repository, opening the bot's encrypted app keys."""
    engine = create_engine(database_url)
    try:
        yield Repository(session_factory(engine), SecretBox.from_keys(SECRET_KEY))
    finally:
        await engine.dispose()


async def _two_apps_one_conference(database_url: str, conference_id: str) -> list[MeetingRow]:
    """T1 on the default app and T2 on its own app, each with a meeting `conference_id`."""
    async with _repository(database_url) as repo:
        await repo.ensure_workspace(team_id="T2")
        await repo.set_app_credentials(
            team_id="T2", app_id="other-app", app_key="other-key", corp_id=None, actor="UADMIN"
        )
        start = now() + timedelta(minutes=10)
        return [
            await seed(repo, conference_id=conference_id, start=start, team_id=team)
            for team in ("T1", "T2")
        ]


async def _states(database_url: str, meetings: list[MeetingRow]) -> list[MeetingState | None]:
    async with _repository(database_url) as repo:
        rows = [await repo.get_meeting(team_id=m.team_id, meeting_id=m.id) for m in meetings]
    return [r.state if r else None for r in rows]


def test_a_push_for_one_app_leaves_another_apps_meeting_alone(bot: Bot) -> None:
    # Conference IDs are the vendor's, per app: two apps may well hand out the same one.
    meetings = asyncio.run(_two_apps_one_conference(bot.database_url, "555000111"))
    assert _push(bot, info=_started("555000111")).status_code == 200
    assert asyncio.run(_states(bot.database_url, meetings)) == [
        MeetingState.LIVE,
        MeetingState.SCHEDULED,
    ]
