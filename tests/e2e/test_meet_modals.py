"""The scheduling and setup modals, and cards that reach Slack late, end to end."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bot.slack import blocks
from storage.db import sync_url
from tests.conftest import Database
from tests.e2e.conftest import ADA, ALICE, APP_ID, APP_KEY, Harness, running_bot
from tests.e2e.inside import REPAIR_JOB
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import FakeSlack, SlackUser, slash_command_body

TRIGGER_LIFE = 3.0
"""Seconds a trigger_id can open a view after the request that carried it (Slack's rule)."""


@contextlib.contextmanager
def database_held(url: str) -> Iterator[None]:
    """The database slowed to a halt for the bot: the test holds the write lock (SQLite) or
    exclusive locks on the tables a command touches first (PostgreSQL) until the block ends."""
    if url.startswith("sqlite"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            lite.execute("BEGIN IMMEDIATE")
            yield
            lite.execute("ROLLBACK")
        finally:
            lite.close()
        return
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(
                text("LOCK TABLE seen_key, workspace, user_mapping IN ACCESS EXCLUSIVE MODE")
            )
            yield
    finally:
        engine.dispose()


def open_view_id(slack: FakeSlack, user: SlackUser) -> str:
    """The id Slack gave the view `user` has open (what views.update must name)."""
    top = slack.ws.top_modal(user.id)
    assert top is not None, "no view is open"
    return str(top.view["id"])


def setup_view(key: str, *, app_id: str = APP_ID, metadata: str = "C1") -> dict[str, Any]:
    def typed(block_id: str, value: str) -> dict[str, Any]:
        return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}

    return {
        "callback_id": blocks.ADMIN_SETUP_MODAL,
        "private_metadata": metadata,
        "state": {
            "values": {
                **typed(blocks.ADMIN_APP_ID, app_id),
                **typed(blocks.ADMIN_APP_KEY, key),
                **typed(blocks.ADMIN_CORP_ID, ""),
                blocks.ADMIN_MODE: {
                    blocks.ADMIN_MODE: {
                        "type": "static_select",
                        "selected_option": {"value": "slack"},
                    }
                },
            }
        },
    }


def schedule_view(
    *,
    topic: str,
    start: datetime,
    duration: str = "45",
    invitees: tuple[str, ...] = (),
    private_metadata: str = "",
) -> dict[str, Any]:
    def value(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
        return {block_id: {block_id: element}}

    return {
        "callback_id": blocks.SCHEDULE_MODAL,
        "private_metadata": private_metadata,
        "state": {
            "values": {
                **value(blocks.SCHEDULE_TOPIC, {"type": "plain_text_input", "value": topic}),
                **value(
                    blocks.SCHEDULE_START,
                    {"type": "datetimepicker", "selected_date_time": int(start.timestamp())},
                ),
                **value(
                    blocks.SCHEDULE_DURATION,
                    {"type": "static_select", "selected_option": {"value": duration}},
                ),
                **value(
                    blocks.SCHEDULE_INVITEES,
                    {"type": "multi_users_select", "selected_users": list(invitees)},
                ),
                **value(
                    blocks.SCHEDULE_RECURRENCE,
                    {"type": "static_select", "selected_option": {"value": "none"}},
                ),
            }
        },
    }


def test_schedule_command_opens_the_modal_and_its_submission_creates_the_meeting(
    harness: Harness,
) -> None:
    _, rid = harness.command("schedule")
    opened = harness.slack.wait_for("views.open")[0].args
    assert opened["view"]["callback_id"] == blocks.SCHEDULE_MODAL
    assert opened["trigger_id"] in harness.slack.ws.used_triggers  # the command's own

    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    response = harness.submit_view(
        schedule_view(
            topic="Board <prep>",
            start=start,
            invitees=("UBOB",),
            private_metadata=opened["view"]["private_metadata"],
        )
    )
    assert response.status_code == 200
    assert response.content in (b"", b"{}")  # accepted: the modal closes
    posts = harness.slack.wait_for("chat.postMessage", count=2)
    meeting = harness.sandbox.meetings()[0]
    assert meeting["subject"] == "Board <prep>"
    assert meeting["length"] == 45
    assert meeting["start_time"] == start.strftime("%Y-%m-%d %H:%M")
    assert meeting["attendees"] == ["bob@example.com"]
    card = next(p.args for p in posts if p.args["channel"] == "C1")
    assert "Board &lt;prep&gt;" in json.dumps(card)
    # The host details reach the organizer through the command's response_url, carried
    # in the modal's private_metadata.
    assert "Host details" in harness.reply_text(rid)
    assert harness.slack.calls_to("chat.postEphemeral") == []


def test_modal_with_a_past_time_shows_the_error_in_the_form(harness: Harness) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    response = harness.submit_view(schedule_view(topic="Late", start=past))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert blocks.SCHEDULE_START in answer["errors"]
    harness.inside.settle()  # the submission's lazy work (which stops at the errors) is over
    assert harness.sandbox.meetings() == []


def test_a_card_slack_failed_to_take_is_posted_later(harness: Harness) -> None:
    harness.slack.fail["chat.postMessage"] = ["internal_error"]
    _, rid = harness.command("Retro tomorrow 4pm")
    assert "card will follow" in harness.reply_text(rid)
    posts = harness.slack.wait_for("chat.postMessage", count=2)
    assert "Retro" in json.dumps(posts[1].args)
    assert len(harness.sandbox.meetings()) == 1
    # A later repair run must not post it again: one began after the card was posted.
    harness.inside.wait_runs(REPAIR_JOB)
    assert len(harness.posts("C1")) == 2


def test_admin_setup_checks_the_app_before_saving_it(harness: Harness) -> None:
    _, rid = harness.command("admin setup", user=ADA)
    assert harness.slack.wait_for("views.open")[0].args["view"]["callback_id"] == (
        blocks.ADMIN_SETUP_MODAL
    )
    shown = harness.slack.wait_for("views.update")[0].args
    assert shown["view_id"] == open_view_id(harness.slack, ADA)
    assert blocks.ADMIN_APP_KEY in json.dumps(shown["view"])  # the form itself, not a notice
    metadata = shown["view"]["private_metadata"]  # where the answer goes: the command's URL
    harness.submit_view(setup_view("wrong-key", metadata=metadata), user=ADA)
    refused = harness.replies(rid)[0].args
    assert "app" in json.dumps(refused).lower()
    assert "wrong-key" not in json.dumps([c.args for c in harness.slack.calls])

    harness.submit_view(setup_view(APP_KEY, metadata=metadata), user=ADA)
    saved = harness.replies(rid, count=2)[1].args
    assert "Saved" in json.dumps(saved)
    _, rid = harness.command("whoami")
    assert "T1-UALICE" in harness.reply_text(rid)


def test_setup_form_opens_before_a_slow_directory_and_database_then_shows_the_setup(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> None:
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path) as bot:
        harness, slack = bot.harness, bot.harness.slack
        _, rid = harness.command("admin setup", user=ADA)
        metadata = slack.wait_for("views.update")[0].args["view"]["private_metadata"]
        harness.submit_view(setup_view(APP_KEY, metadata=metadata), user=ADA)
        harness.replies(rid)  # saved: the next form shows this app
        harness.inside.settle()
        before = len(slack.calls)

        slack.hold("users.info", "before")  # the directory answers only when released
        with database_held(empty_database.url):
            sent = time.monotonic()
            harness.command("admin setup", user=ADA)
            opened = slack.wait_for("views.open", count=2)[1]
            assert opened.at - sent < TRIGGER_LIFE
            # Opened while the database was still held and before any directory lookup.
            assert [c.method for c in slack.calls[before:]] == ["views.open"]
            assert "Loading" in json.dumps(opened.args["view"])
        slack.wait_held("users.info")
        slack.release("users.info")
        shown = slack.wait_for("views.update", count=2)[1].args
        assert shown["view_id"] == open_view_id(slack, ADA)
        assert f'"initial_value": "{APP_ID}"' in json.dumps(shown["view"])
        methods = [c.method for c in slack.calls[before:]]
        assert methods.index("views.open") < methods.index("users.info")


def test_schedule_form_opens_at_once_while_the_database_is_held(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> None:
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path) as bot:
        harness, slack = bot.harness, bot.harness.slack
        slack.hold("users.info", "before")
        with database_held(empty_database.url):
            sent = time.monotonic()
            harness.command("schedule")
            opened = slack.wait_for("views.open")[0]
            assert opened.at - sent < TRIGGER_LIFE
            assert opened.args["view"]["callback_id"] == blocks.SCHEDULE_MODAL
        slack.release("users.info")
        harness.inside.settle()
        # The form is whole: no lookup, no update, no answer follows.
        assert [c.method for c in slack.calls if c.method != "auth.test"] == ["views.open"]


def test_non_admin_sees_the_setup_window_say_only_admins_may_and_cannot_save(
    harness: Harness,
) -> None:
    harness.command("admin setup")
    assert harness.slack.wait_for("views.open")[0].args["view"]["callback_id"] == (
        blocks.ADMIN_SETUP_MODAL
    )
    shown = json.dumps(harness.slack.wait_for("views.update")[0].args["view"])
    assert "Only workspace admins can change the meeting-service setup" in shown
    assert blocks.ADMIN_APP_KEY not in shown
    assert "submit" not in json.loads(shown)

    # A forged submission, from a view without the command's response_url: answered by DM.
    harness.submit_view(setup_view(APP_KEY, app_id="forged-app"))
    refused = json.dumps(harness.slack.wait_for("chat.postMessage")[0].args)
    assert "Only" in refused
    _, rid = harness.command("whoami")  # the default mapping mode (email) still holds
    assert "alice@example.com" in harness.reply_text(rid)


def test_an_expired_trigger_gets_a_button_that_opens_the_form(harness: Harness) -> None:
    harness.slack.fail["views.open"] = ["expired_trigger_id"]
    _, rid = harness.command("schedule")
    answer = harness.replies(rid)[0].args
    button = answer["blocks"][1]["elements"][0]
    assert button["action_id"] == blocks.OPEN_FORM
    assert button["value"] == "schedule"
    assert answer["response_type"] == "ephemeral"

    harness.click(blocks.OPEN_FORM, button["value"])
    refused, opened = (c.args for c in harness.slack.wait_for("views.open", count=2))
    assert opened["trigger_id"] != refused["trigger_id"]  # the press's own, fresh trigger
    shown = harness.slack.ws.top_modal(ALICE.id)
    assert shown is not None
    assert shown.view["callback_id"] == blocks.SCHEDULE_MODAL


def test_a_re_sent_command_opens_one_form_and_acts_once(harness: Harness) -> None:
    slack = harness.slack
    body = slash_command_body(
        "admin setup",
        user_id=ADA.id,
        team_id=ADA.team_id,
        channel_id="C1",
        response_url=f"{harness.slack_url}/response/again",
        trigger_id=slack.issue_trigger(ADA.id),
    )
    harness.post(body)
    slack.wait_for("views.update")
    harness.inside.settle()
    lookups = len(slack.calls_to("users.info"))
    # Slack opens a trigger once: the repeat's views.open is refused as Slack refuses it.
    slack.fail["views.open"] = ["exchanged_trigger_id"]
    harness.post(body)
    repeat = json.dumps(harness.replies("again")[0].args)
    assert "already received this request" in repeat
    assert blocks.OPEN_FORM not in repeat
    harness.inside.settle()
    assert len(slack.calls_to("views.update")) == 1
    assert len(slack.calls_to("users.info")) == lookups  # nothing was done again
