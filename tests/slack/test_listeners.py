"""Each request kind reaches its listener through the real Bolt app with the arguments the
listener names (the listeners are bound methods: Bolt must skip `self`), and is acked."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import commands as cmd
from bot.service import Invocation
from bot.slack import blocks
from bot.slack.priority import AckGate
from tests.slack.conftest import CHANNEL, TEAM, USER, Bolt, settle

ANA = Invocation(TEAM, USER, CHANNEL)
START = int(time.time()) // 60 * 60 + 86_400  # tomorrow, on a whole minute


def typed(block_id: str, value: str) -> dict[str, Any]:
    return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}


def chosen(block_id: str, value: str) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": value}, "value": value}
    return {block_id: {block_id: {"type": "static_select", "selected_option": option}}}


SCHEDULE_VALUES = {
    **typed(blocks.SCHEDULE_TOPIC, "Retro"),
    blocks.SCHEDULE_START: {
        blocks.SCHEDULE_START: {"type": "datetimepicker", "selected_date_time": START}
    },
    **chosen(blocks.SCHEDULE_DURATION, "45"),
    **chosen(blocks.SCHEDULE_RECURRENCE, "weekly"),
}
SETUP_VALUES = {
    **typed(blocks.ADMIN_APP_ID, " app-1 "),
    **typed(blocks.ADMIN_APP_KEY, "key-1"),
    **chosen(blocks.ADMIN_MODE, "explicit"),
}


@pytest.mark.parametrize(
    ("request_body", "expected", "answer"),
    [
        pytest.param(
            lambda b: b.command("help"), ("execute", (ANA, "help")), "response_url", id="meet"
        ),
        pytest.param(
            lambda b: b.click(blocks.CANCEL, "7"),
            ("cancel", (ANA, 7)),
            "response_url",
            id="cancel-button",
        ),
        pytest.param(
            lambda b: b.click(blocks.START_NOW, "Standup"),
            ("start_now", (ANA, "Standup")),
            "response_url",
            id="start-now-button",
        ),
        pytest.param(
            lambda b: b.click(blocks.MAPPINGS_PAGE_NEXT, "2"),
            ("run", (ANA, cmd.AdminMappings(page=2))),
            "response_url",
            id="mappings-pager",
        ),
        pytest.param(
            lambda b: b.submit(blocks.SCHEDULE_MODAL, SCHEDULE_VALUES),
            (
                "schedule",
                (
                    ANA,
                    cmd.Schedule(
                        topic="Retro",
                        start=datetime.fromtimestamp(START, UTC),
                        tz_name="UTC",
                        duration_minutes=45,
                        invitees=(),
                        recurrence=cmd.Recurrence(cmd.Frequency.WEEKLY),
                    ),
                ),
            ),
            "response_url",
            id="schedule-modal",
        ),
        pytest.param(
            lambda b: b.submit(blocks.ADMIN_SETUP_MODAL, SETUP_VALUES),
            ("setup_app", (ANA, "app-1", "key-1", None, "explicit")),
            "response_url",
            id="setup-modal",
        ),
        pytest.param(
            lambda b: b.event("app_uninstalled"),
            ("record_event", (TEAM, "app_uninstalled")),
            None,
            id="app-uninstalled",
        ),
        pytest.param(
            lambda b: b.event("tokens_revoked"),
            ("record_event", (TEAM, "tokens_revoked")),
            None,
            id="tokens-revoked",
        ),
    ],
)
async def test_request_reaches_its_listener_with_its_arguments(
    bolt: Bolt,
    caplog: pytest.LogCaptureFixture,
    request_body: Callable[[Bolt], str],
    expected: tuple[str, tuple[Any, ...]],
    answer: str | None,
) -> None:
    app = bolt.app(AckGate())

    with caplog.at_level(logging.WARNING, logger="slack_bolt"):
        response = await app.async_dispatch(bolt.request(request_body(bolt)))
        await bolt.service_called()
        if answer is not None:  # the user is answered privately (help, from the fake service)
            await bolt.answered(answer, 1)

    assert response.status == 200
    assert bolt.service.calls == [expected]
    assert not [r for r in caplog.records if r.name.startswith("slack_bolt")]


@pytest.mark.parametrize("action_id", [blocks.JOIN, blocks.HOST_JOIN])
async def test_link_buttons_are_only_acked(bolt: Bolt, action_id: str) -> None:
    app = bolt.app(AckGate())

    response = await app.async_dispatch(bolt.request(bolt.click(action_id, "42")))
    await settle()

    assert response.status == 200
    assert bolt.service.log == []


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param(lambda b: b.command("schedule", trigger_id="T-cmd"), id="command"),
        pytest.param(lambda b: b.click(blocks.OPEN_FORM, "schedule"), id="open-form-button"),
    ],
)
async def test_scheduling_form_opens_with_the_requests_own_trigger_and_no_service_work(
    bolt: Bolt, request_body: Callable[[Bolt], str]
) -> None:
    app = bolt.app(AckGate())
    body = request_body(bolt)

    response = await app.async_dispatch(bolt.request(body))
    opened = (await bolt.answered("views.open", 1))[0].args
    # The act-once record follows the open; the recording service signals only its answers.
    async with asyncio.timeout(10):
        while not bolt.service.log:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    assert response.status == 200
    trigger = "T-cmd" if "T-cmd" in body else "click-1"
    assert opened["trigger_id"] == trigger
    assert opened["view"]["callback_id"] == blocks.SCHEDULE_MODAL
    assert bolt.service.calls == []  # no profile, no command run: the form needs nothing
    assert len(bolt.service.log) == 1  # the request was recorded once, for repeats


async def test_a_refused_trigger_is_answered_with_the_open_form_button(bolt: Bolt) -> None:
    app = bolt.app(AckGate())
    bolt.slack.fail["views.open"] = ["invalid_trigger_id"]

    await app.async_dispatch(bolt.request(bolt.command("admin setup")))
    answer = (await bolt.answered("response_url", 1))[0].args

    button = answer["blocks"][1]["elements"][0]
    assert (button["action_id"], button["value"]) == (blocks.OPEN_FORM, "admin setup")
    assert bolt.service.calls == []
