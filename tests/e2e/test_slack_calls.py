"""Slack Calls (MEETBOT_SLACK_CALLS=true): a native call object follows the meeting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.e2e.conftest import Bot, running_bot, serve_sandbox
from tests.fakes.sandbox import RunningSandbox, frozen_clock
from tests.fakes.slack_api import Call, FakeSlack


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """The vendor sandbox on a clock that moves only when a test advances it: a meeting
    lasts exactly what the test advanced, however long the test itself takes."""
    with serve_sandbox(clock=frozen_clock()) as running:
        yield running


@pytest.fixture
def bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Iterator[Bot]:
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path, slack_calls=True) as b:
        yield b


def wait_call(slack: FakeSlack, method: str, match: Any = None, timeout: float = 30) -> Call:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to(method):
            if match is None or match(call.args):
                return call
        time.sleep(0.05)
    raise AssertionError(f"no {method} call matching")


def users(args: dict[str, Any]) -> list[dict[str, Any]]:
    import json

    value = args.get("users") or []
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, list)
    return parsed


def test_call_object_is_added_kept_in_step_and_ended_with_the_duration(bot: Bot) -> None:
    harness, slack, sandbox = bot.harness, bot.harness.slack, bot.harness.sandbox
    harness.command("Design review in 10 minutes for 1h")
    added = wait_call(slack, "calls.add")
    meeting = sandbox.meetings()[0]
    conference_id = str(meeting["conference_id"])
    assert str(added.args["external_unique_id"]).startswith(conference_id)
    assert added.args["join_url"].startswith("https://")
    call_id = next(iter(slack.call_objects))
    card = slack.wait_for("chat.postMessage")[0].args
    assert {"type": "call", "call_id": call_id} in card["blocks"]

    sandbox.start(conference_id)
    ann = sandbox.join(conference_id, "Ann", account_id="ann@example.com")
    sandbox.join(conference_id, "Bo", account_id="bo@example.com")
    joined = wait_call(slack, "calls.participants.add")
    assert joined.args["id"] == call_id
    names = {u["display_name"] for u in users(joined.args)}
    assert names <= {"Ann", "Bo"}
    assert names

    sandbox.leave(conference_id, ann)
    left = wait_call(slack, "calls.participants.remove")
    assert users(left.args) == [{"external_id": "ann@example.com"}]

    sandbox.advance(30 * 60)
    sandbox.end(conference_id)
    ended = wait_call(slack, "calls.end")
    assert ended.args["id"] == call_id
    assert int(ended.args["duration"]) == 30 * 60
    # The counting listener runs after the calls listener: wait for it, with a deadline.
    deadline = time.monotonic() + 30
    while (
        'meetbot_status_changes_total{kind="ended"}'
        not in (metrics := harness.http.get(f"{harness.bot_url}/metrics").text)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert 'meetbot_status_changes_total{kind="started"} 1' in metrics
    assert 'meetbot_status_changes_total{kind="ended"} 1' in metrics
