"""`meetbot serve --socket-mode`: Slack's envelopes over a websocket instead of HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Database
from tests.e2e.conftest import ALICE, socket_mode_bot
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import FakeSlack


def test_slash_command_over_socket_mode_is_acked_and_creates_the_meeting(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> None:
    slack, slack_url = fake_slack
    with socket_mode_bot(sandbox, fake_slack, empty_database.url, tmp_path) as (socket, _):
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
