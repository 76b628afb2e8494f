"""Security review findings, end to end over real HTTP: answers only ever go to Slack, every
failure is answered, one Slack request acts once, admin rights are the invoking workspace's
and current, and an unreadable app key harms only its own workspace."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.slack import blocks
from storage.db import create_engine, session_factory
from storage.repo import Repository
from storage.secrets import SecretBox
from tests.conftest import Database
from tests.e2e.conftest import ADA, ALICE, APP_ID, APP_KEY, Bot, Harness, running_bot
from tests.e2e.test_meet_modals import schedule_view
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import FakeSlack, SlackUser, interaction_body, slash_command_body

STRANGER = SlackUser("USTRANGER", "TOTHER", "Stranger", tz="UTC", email="s@other.example")
"""A Slack Connect member: an admin of their own organization, not of T1."""


@pytest.fixture
def bot(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Iterator[Bot]:
    fake_slack[0].add_users(dataclasses.replace(STRANGER, is_admin=True))
    with running_bot(sandbox, fake_slack, empty_database.url, tmp_path) as running:
        yield running


@pytest.fixture
def elsewhere() -> Iterator[tuple[list[dict[str, Any]], str]]:
    """A server that is not Slack, recording whatever is posted to it."""
    received: list[dict[str, Any]] = []

    async def record(request: Request) -> Response:
        received.append({"path": request.url.path, "body": (await request.body()).decode()})
        return Response("ok")

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    with serve_asgi(app) as url:
        yield received, url


def command_body(
    text: str, *, response_url: str, trigger_id: str, user: SlackUser = ALICE, team_id: str = "T1"
) -> str:
    """A /meet command in channel C1 of `team_id`, answered at `response_url`."""
    return slash_command_body(
        text,
        user_id=user.id,
        team_id=team_id,
        channel_id="C1",
        response_url=response_url,
        trigger_id=trigger_id,
    )


def replies_to(harness: Harness, rid: str) -> str:
    return json.dumps(
        [c.args for c in harness.slack.calls_to("response_url") if c.args["response_id"] == rid]
    )


# --- answers go only to Slack ---------------------------------------------------------------


def test_a_response_url_that_is_not_slacks_never_receives_the_host_link(
    bot: Bot, elsewhere: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = elsewhere
    harness = bot.harness
    body = command_body("now Quick sync", response_url=f"{url}/steal", trigger_id="t-foreign")
    assert harness.post(body).status_code == 200
    harness.slack.wait_for("chat.postMessage")  # the card: the command itself ran
    harness.inside.settle()  # and the rest of its work (the host link's answer) is over
    assert received == []


# --- every failure is answered -----------------------------------------------------------


def test_a_failure_inside_a_command_is_answered_with_a_reference(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    harness = bot.harness
    harness.slack.fail["users.info"] = ["fatal_error"]
    with caplog.at_level(logging.ERROR):
        _, rid = harness.command("now Quick sync")
        answer = harness.reply_text(rid)
    assert "Something went wrong" in answer
    assert "nothing was created" in answer
    reference = answer.split("reference ", 1)[1][:8]
    assert any(reference in r.getMessage() for r in caplog.records)
    assert harness.sandbox.meetings() == []


# --- one Slack request, one action --------------------------------------------------------


def test_a_re_sent_signed_command_creates_one_meeting(bot: Bot) -> None:
    harness = bot.harness
    body = command_body(
        "now Quick sync",
        response_url=f"{harness.slack_url}/response/replayed",
        trigger_id="trigger-once",
    )
    assert harness.post(body).status_code == 200
    assert harness.post(body).status_code == 200
    answers = harness.replies("replayed", count=2)
    assert "already received" in json.dumps([a.args for a in answers])
    harness.inside.settle()  # both requests' work is over
    assert len(harness.sandbox.meetings()) == 1
    assert len(harness.posts("C1")) == 1


def test_a_double_click_on_start_now_creates_one_meeting(bot: Bot) -> None:
    harness = bot.harness
    _, first = harness.click(blocks.START_NOW, "Standup", message_ts="5.000001")
    _, second = harness.click(blocks.START_NOW, "Standup", message_ts="5.000001")
    harness.replies(second)
    harness.replies(first)
    harness.inside.settle()  # both clicks' work is over
    assert len(harness.sandbox.meetings()) == 1
    assert "already received" in replies_to(harness, first) + replies_to(harness, second)


def test_a_modal_submitted_twice_creates_one_meeting_but_a_corrected_one_goes_through(
    bot: Bot,
) -> None:
    harness = bot.harness
    past = datetime.now(UTC) - timedelta(hours=1)
    assert (
        harness.submit_view(schedule_view(topic="Board", start=past)).json()["response_action"]
        == "errors"
    )
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    harness.submit_view(schedule_view(topic="Board", start=start))
    harness.submit_view(schedule_view(topic="Board", start=start))
    harness.slack.wait_for("chat.postMessage")
    harness.inside.settle()  # every submission's work is over
    assert len(harness.sandbox.meetings()) == 1


# --- admin rights -----------------------------------------------------------------------------


def test_an_admin_of_another_organization_is_no_admin_here(bot: Bot) -> None:
    """A Slack Connect member types /meet in a channel shared with T1."""
    harness = bot.harness
    body = command_body(
        "admin map <@UBOB> intruder@example.com",
        user=STRANGER,
        response_url=f"{harness.slack_url}/response/stranger",
        trigger_id="trigger-stranger",
    )
    harness.post(body)
    assert "Only" in harness.reply_text("stranger")
    _, rid = harness.command("admin mappings", user=ADA)
    assert "intruder@example.com" not in harness.reply_text(rid)


def test_admin_rights_are_checked_when_used_not_remembered(bot: Bot) -> None:
    harness = bot.harness
    _, rid = harness.command("admin mappings", user=ADA)
    assert "User mappings" in harness.reply_text(rid)
    harness.slack.users[ADA.id] = dataclasses.replace(ADA, is_admin=False)  # demoted
    _, rid = harness.command("admin map <@UBOB> ada-choice@example.com", user=ADA)
    assert "Only" in harness.reply_text(rid)


def test_a_modal_acts_in_the_workspace_it_was_opened_in(bot: Bot) -> None:
    """Enterprise Grid: the user's home team differs from the workspace of the request."""
    harness = bot.harness
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "t1"},
        "enterprise": {"id": "E1", "name": "Grid"},
        "user": {"id": ALICE.id, "team_id": "THOME", "name": ALICE.name},
        "api_app_id": "A1",
        "token": "deprecated",
        "trigger_id": "trigger-grid",
        "view": {
            "id": "VGRID",
            "team_id": "T1",
            "type": "modal",
            **schedule_view(topic="Grid", start=start),
        },
    }
    harness.post(interaction_body(payload))
    harness.slack.wait_for("chat.postMessage")
    _, rid = harness.command("list")
    assert "Grid" in harness.reply_text(rid)


# --- an unreadable app key --------------------------------------------------------------------


async def store_key_nobody_can_read(database_url: str, team_id: str) -> None:
    """The workspace's app as a replica with another secret key would have stored it."""
    engine = create_engine(database_url)
    try:
        foreign = SecretBox.from_keys(Fernet.generate_key().decode())
        await Repository(session_factory(engine), foreign).set_app_credentials(
            team_id=team_id, app_id=APP_ID, app_key=APP_KEY, corp_id=None, actor="UADA"
        )
    finally:
        await engine.dispose()


async def test_the_setup_form_opens_and_asks_again_for_an_unreadable_key(bot: Bot) -> None:
    harness = bot.harness
    await store_key_nobody_can_read(bot.database_url, "T1")
    harness.command("admin setup", user=ADA)
    # The form opens at once and is filled in by views.update once the setup is read.
    view = harness.slack.wait_for("views.update")[0].args["view"]
    shown = json.dumps(view)
    assert "can no longer be read" in shown
    key_block = next(b for b in view["blocks"] if b.get("block_id") == blocks.ADMIN_APP_KEY)
    assert not key_block.get("optional")


async def test_start_up_names_each_workspace_whose_key_is_unreadable(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from storage.db import upgrade

    upgrade(empty_database.url)
    await store_key_nobody_can_read(empty_database.url, "TLOST")
    with (
        caplog.at_level(logging.ERROR),
        running_bot(sandbox, fake_slack, empty_database.url, tmp_path),
    ):
        pass
    lines = [r.getMessage() for r in caplog.records if "TLOST" in r.getMessage()]
    assert len(lines) == 1
    assert "cannot be decrypted" in lines[0]
    assert APP_KEY not in lines[0]


def test_a_huge_page_number_on_the_pager_shows_the_last_page(bot: Bot) -> None:
    harness = bot.harness
    _, rid = harness.click("meet_mappings_page_next", "99999999999999999999", user=ADA)
    assert "User mappings" in harness.reply_text(rid)
