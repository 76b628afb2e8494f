"""Slack Calls (MEETBOT_SLACK_CALLS=true): a native call object exists while the meeting runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.e2e.conftest import ALICE, Bot, running_bot, serve_sandbox
from tests.e2e.inside import POLL_JOB
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
    value = args.get("users") or []
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, list)
    return parsed


def blocks_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    value = args.get("blocks") or []
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, list)
    return parsed


def has_call(call_id: str) -> Any:
    return lambda args: {"type": "call", "call_id": call_id} in blocks_of(args)


def test_a_scheduled_meeting_gets_its_call_when_it_starts_and_ends_it_with_the_duration(
    bot: Bot,
) -> None:
    harness, slack, sandbox = bot.harness, bot.harness.slack, bot.harness.sandbox
    harness.command("Design review in 10 minutes for 1h")
    card = slack.wait_for("chat.postMessage")[0].args
    assert not [b for b in blocks_of(card) if b.get("type") == "call"]
    harness.inside.wait_runs(POLL_JOB)  # a whole status poll ran: still no call before start
    assert slack.calls_to("calls.add") == []

    meeting = sandbox.meetings()[0]
    conference_id = str(meeting["conference_id"])
    sandbox.start(conference_id)
    added = wait_call(slack, "calls.add")
    assert str(added.args["external_unique_id"]).startswith(conference_id)
    assert added.args["join_url"].startswith("https://")
    assert added.args["created_by"] == ALICE.id
    call_id = next(iter(slack.call_objects))
    wait_call(slack, "chat.update", has_call(call_id))  # the card shows the running call

    ann = sandbox.join(conference_id, "Ann", account_id="ann@example.com")
    sandbox.join(conference_id, "   ", account_id="guest-7")
    sandbox.join(conference_id, "Alice H.", account_id=ALICE.email)
    wait_call(slack, "calls.participants.add")
    deadline = time.monotonic() + 30
    while len(slack.call_objects[call_id]["users"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    shown = slack.call_objects[call_id]["users"]
    assert {"slack_id": ALICE.id} in shown  # the organizer, as the Slack user
    assert {"external_id": "ann@example.com", "display_name": "Ann"} in shown
    assert {"external_id": "guest-7", "display_name": "Meeting guest"} in shown
    assert all(u.get("slack_id") or u.get("display_name") for u in shown)

    sandbox.leave(conference_id, ann)
    left = wait_call(slack, "calls.participants.remove")
    assert users(left.args) == [{"external_id": "ann@example.com"}]

    sandbox.advance(30 * 60)
    sandbox.end(conference_id)
    ended = wait_call(slack, "calls.end")
    assert ended.args["id"] == call_id
    assert int(ended.args["duration"]) == 30 * 60
    assert len(slack.calls_to("calls.add")) == 1
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


def test_an_instant_meeting_gets_its_call_on_its_first_card(bot: Bot) -> None:
    harness, slack, sandbox = bot.harness, bot.harness.slack, bot.harness.sandbox
    harness.command("now Quick sync")
    added = wait_call(slack, "calls.add")
    call_id = next(iter(slack.call_objects))
    card = slack.wait_for("chat.postMessage")[0]
    assert card.at > added.at
    assert {"type": "call", "call_id": call_id} in blocks_of(card.args)

    conference_id = str(sandbox.meetings()[0]["conference_id"])
    # Polled once before the vendor's clock moves: the poll's token is signed on real time.
    harness.inside.wait_runs(POLL_JOB)
    sandbox.advance(20 * 60)
    sandbox.end(conference_id)
    ended = wait_call(slack, "calls.end")
    assert ended.args["id"] == call_id
    assert int(ended.args["duration"]) == 20 * 60
    assert len(slack.calls_to("calls.add")) == 1


def test_a_restart_keeps_the_running_call_instead_of_adding_a_second(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> None:
    slack = fake_slack[0]
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path, slack_calls=True) as first:
        first.harness.command("Retro in 10 minutes")
        slack.wait_for("chat.postMessage")
        conference_id = str(sandbox.meetings()[0]["conference_id"])
        sandbox.start(conference_id)
        wait_call(slack, "calls.add")
        call_id = next(iter(slack.call_objects))
        wait_call(slack, "chat.update", has_call(call_id))

    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path, slack_calls=True) as second:
        sandbox.join(conference_id, "Bo", account_id="bo@example.com")
        joined = wait_call(slack, "calls.participants.add")
        assert joined.args["id"] == call_id
        sandbox.advance(15 * 60)
        sandbox.end(conference_id)
        assert wait_call(slack, "calls.end").args["id"] == call_id
        second.harness.inside.wait_runs(POLL_JOB)
    assert len(slack.calls_to("calls.add")) == 1


def test_an_ended_occurrence_of_a_recurring_meeting_leaves_the_next_without_a_call(
    bot: Bot,
) -> None:
    harness, slack, sandbox = bot.harness, bot.harness.slack, bot.harness.sandbox
    harness.command("Standup in 10 minutes every day for 30m")
    slack.wait_for("chat.postMessage")
    conference_id = str(sandbox.meetings()[0]["conference_id"])
    sandbox.start(conference_id)
    added = wait_call(slack, "calls.add")
    call_id = next(iter(slack.call_objects))
    first_occurrence = str(added.args["external_unique_id"])

    sandbox.advance(20 * 60)
    sandbox.end(conference_id)
    ended = wait_call(slack, "calls.end")
    assert ended.args["id"] == call_id
    # The card moves on to tomorrow's occurrence, without the ended call; that occurrence
    # gets a call object of its own (another external_unique_id) when it starts.
    deadline = time.monotonic() + 30
    while not [u for u in slack.calls_to("chat.update") if u.at > ended.at]:
        assert time.monotonic() < deadline, "the card was not updated after the call ended"
        time.sleep(0.05)
    after = [u for u in slack.calls_to("chat.update") if u.at > ended.at]
    assert not [b for u in after for b in blocks_of(u.args) if b.get("type") == "call"]
    assert first_occurrence.startswith(conference_id)
    assert len(slack.calls_to("calls.add")) == 1
