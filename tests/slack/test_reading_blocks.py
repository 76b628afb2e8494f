"""The readings of an unclear time in Block Kit: labels in the user's zone, button values that
carry the whole request within Slack's limit, and values from the user read back strictly."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot import commands as cmd
from bot.rules import Frequency
from bot.slack import blocks
from bot.slack.blocks.answers import read_reading, reading_value, render_ambiguous
from bot.slack.blocks.common import BUTTON_VALUE_MAX
from bot.slack.blocks.forms import render_reading_form
from bot.slack.blocks.ids import READING, READING_FORM

NOW = datetime(2026, 3, 4, 15, tzinfo=UTC)  # 10:00 in New York
READING_A = cmd.Schedule(
    "Retro <!channel>", datetime(2026, 3, 5, 2, tzinfo=UTC), "America/New_York", 45, ("UBOB",)
)  # today 21:00 in New York
READING_B = cmd.Schedule(
    "Retro <!channel>", datetime(2026, 3, 5, 14, tzinfo=UTC), "America/New_York", 45, ("UBOB",),
    cmd.Recurrence(Frequency.WEEKLY, (3,), date(2026, 6, 1)),
)  # fmt: skip
QUESTION = cmd.Ambiguous("“9:00” has already passed.", (READING_A, READING_B), READING_A)


def elements(message: blocks.Message) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_readings_are_buttons_labelled_in_the_users_zone_and_the_form_last() -> None:
    shown = elements(render_ambiguous(QUESTION, now=NOW))
    assert [e["text"]["text"] for e in shown] == ["Today 21:00", "Tomorrow 09:00", "Open the form"]
    assert all(READING.match(e["action_id"]) for e in shown[:2])
    assert shown[2]["action_id"] == READING_FORM


def test_the_problem_is_escaped() -> None:
    question = cmd.Ambiguous("<!channel> 9am", (), READING_A)
    message = render_ambiguous(question, now=NOW)
    text = message["text"] + message["blocks"][0]["text"]["text"]
    assert "<!channel>" not in text
    assert "pick the time in the form" in text


@pytest.mark.parametrize("reading", [READING_A, READING_B], ids=["plain", "recurring"])
def test_a_button_value_reads_back_as_the_same_request(reading: cmd.Schedule) -> None:
    assert read_reading(reading_value(reading)) == reading


def test_the_largest_request_fits_in_a_button_value() -> None:
    largest = cmd.Schedule(
        "\u0001" * 128, READING_A.start, "America/Argentina/ComodRivadavia", 1440,
        tuple(f"U{index:014d}" for index in range(50)),
        cmd.Recurrence(Frequency.WEEKLY, tuple(range(7)), date(2027, 1, 1)),
    )  # fmt: skip
    value = reading_value(largest)
    assert len(value) <= BUTTON_VALUE_MAX
    assert read_reading(value) == largest


GOOD = json.loads(reading_value(READING_B))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[]",
        json.dumps({**GOOD, "s": "1700000000"}),
        json.dumps({**GOOD, "s": 10**20}),
        json.dumps({**GOOD, "s": True}),
        json.dumps({**GOOD, "z": "../../etc/passwd"}),
        json.dumps({**GOOD, "z": "Mars/Olympus"}),
        json.dumps({**GOOD, "t": "x" * 129}),
        json.dumps({**GOOD, "d": 30.5}),
        json.dumps({**GOOD, "i": "<!channel>"}),
        json.dumps({**GOOD, "i": ["UBOB"]}),
        json.dumps({**GOOD, "i": ",".join(["U12"] * 51)}),
        json.dumps({**GOOD, "r": ["hourly", [], None]}),
        json.dumps({**GOOD, "r": ["weekly", [9], None]}),
        json.dumps({**GOOD, "r": ["weekly", [], "tomorrow"]}),
        json.dumps({k: v for k, v in GOOD.items() if k != "d"}),
        "x" * (BUTTON_VALUE_MAX + 1),
    ],
)
def test_a_forged_button_value_reads_as_nothing(value: str) -> None:
    assert read_reading(value) is None


def test_the_form_opens_prefilled_from_its_button() -> None:
    view = render_reading_form(reading_value(READING_A), private_metadata="C1")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs[blocks.SCHEDULE_TOPIC]["initial_value"] == "Retro <!channel>"
    assert inputs[blocks.SCHEDULE_START]["initial_date_time"] == int(READING_A.start.timestamp())
    assert inputs[blocks.SCHEDULE_DURATION]["initial_option"]["value"] == "45"
    assert inputs[blocks.SCHEDULE_INVITEES]["initial_users"] == ["UBOB"]
    assert view["private_metadata"] == "C1"


def test_an_unreadable_form_value_opens_the_form_empty() -> None:
    view = render_reading_form("garbage", private_metadata="C1")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert "initial_value" not in inputs[blocks.SCHEDULE_TOPIC]
