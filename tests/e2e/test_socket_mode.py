"""`meetbot serve --socket-mode`: Slack's envelopes over a websocket instead of HTTP."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.server import build_http_app
from tests.conftest import Database
from tests.e2e.conftest import ALICE, make_settings
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import serve_socket_mode


def test_slash_command_over_socket_mode_is_acked_and_creates_the_meeting(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> None:
    slack, slack_url = fake_slack
    with serve_socket_mode() as (socket, socket_url):
        slack.socket_url = socket_url
        settings = make_settings(
            slack_url=slack_url,
            sandbox_url=sandbox.base_url,
            database_url=empty_database.url,
            data_dir=tmp_path,
            slack_signing_secret=None,
            slack_app_token=SecretStr("xapp-1-test"),
        )
        with serve_asgi(build_http_app(settings, socket_mode=True), lifespan=True):
            assert socket.connected.wait(10), "the bot never opened the socket"
            envelope = socket.send(
                "slash_commands",
                {
                    "token": "deprecated",
                    "team_id": ALICE.team_id,
                    "team_domain": "t1",
                    "channel_id": "C1",
                    "channel_name": "general",
                    "user_id": ALICE.id,
                    "user_name": "alice",
                    "command": "/meet",
                    "text": "now Socket sync",
                    "api_app_id": "A1",
                    "response_url": f"{slack_url}/response/socket",
                    "trigger_id": "trigger-socket",
                },
            )
            assert socket.ack(envelope)["envelope_id"] == envelope
            card = slack.wait_for("chat.postMessage")[0].args
    assert card["channel"] == "C1"
    assert "Socket sync" in str(card["blocks"])
    (meeting,) = sandbox.meetings()
    assert meeting["owner"] == ALICE.email
    opened = slack.calls_to("apps.connections.open")
    assert opened, "the app token opened the connection through the Web API"
