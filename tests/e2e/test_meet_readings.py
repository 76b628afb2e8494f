"""An unclear time end to end: /meet asks instead of guessing, a reading's button books exactly
that reading once, and "Open the form" opens the scheduling form prefilled."""

from __future__ import annotations

import json
from typing import Any

from bot.slack import blocks
from bot.slack.blocks.ids import READING_FORM, READING_PREFIX
from tests.e2e.conftest import Harness


def buttons(harness: Harness, rid: str) -> dict[str, str]:
    """The answer's buttons: action_id -> value."""
    answer: dict[str, Any] = harness.replies(rid)[0].args
    return {
        element["action_id"]: element["value"]
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_a_date_without_a_time_asks_and_a_reading_books_exactly_that_once(
    harness: Harness,
) -> None:
    _, rid = harness.command("Retro next wednesday for 45m with <@UBOB|bob>")
    offered = buttons(harness, rid)
    assert harness.sandbox.meetings() == []  # asked, created nothing
    first, second = offered[f"{READING_PREFIX}0"], offered[f"{READING_PREFIX}1"]

    response, _ = harness.click(f"{READING_PREFIX}0", first)
    assert response.status_code == 200
    harness.slack.wait_for("chat.postMessage", count=2)  # the card and Bob's invitation
    _, again = harness.click(f"{READING_PREFIX}0", first)  # a double click
    _, other = harness.click(f"{READING_PREFIX}1", second)  # a second choice on that answer
    assert "already received" in harness.reply_text(again)
    assert "already received" in harness.reply_text(other)

    meetings = harness.sandbox.meetings()
    assert len(meetings) == 1
    chosen = blocks.answers.read_reading(first)
    assert chosen is not None
    assert meetings[0]["subject"] == "Retro"
    assert meetings[0]["length"] == 45
    assert meetings[0]["start_time"] == chosen.start.strftime("%Y-%m-%d %H:%M")
    assert meetings[0]["attendees"] == ["bob@example.com"]


def test_a_forged_reading_in_the_past_is_refused(harness: Harness) -> None:
    forged = json.dumps({"t": "Late", "s": 1_000_000_000, "z": "UTC", "d": 30, "i": "", "r": None})
    _, rid = harness.click(f"{READING_PREFIX}0", forged)
    assert "already passed" in harness.reply_text(rid)
    assert harness.sandbox.meetings() == []


def test_open_the_form_shows_the_reading_prefilled(harness: Harness) -> None:
    _, rid = harness.command("Retro next wednesday for 45m with <@UBOB|bob>")
    value = buttons(harness, rid)[READING_FORM]

    harness.click(READING_FORM, value)
    opened = harness.slack.wait_for("views.open")[0].args
    view = opened["view"]
    assert view["callback_id"] == blocks.SCHEDULE_MODAL
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    expected = blocks.answers.read_reading(value)
    assert expected is not None
    assert elements[blocks.SCHEDULE_TOPIC]["initial_value"] == "Retro"
    assert elements[blocks.SCHEDULE_START]["initial_date_time"] == int(expected.start.timestamp())
    assert elements[blocks.SCHEDULE_DURATION]["initial_option"]["value"] == "45"
    assert elements[blocks.SCHEDULE_INVITEES]["initial_users"] == ["UBOB"]
    assert harness.sandbox.meetings() == []
