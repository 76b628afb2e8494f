"""The modals accept what the /meet command accepts, and the setup form is read back as typed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands import Ambiguous, CommandError, Schedule, StartNow, parse_command
from bot.rules import (
    MAX_DAYS_AHEAD,
    MAX_DURATION_MINUTES,
    MAX_INVITEES,
    MAX_TOPIC_LENGTH,
    MIN_DURATION_MINUTES,
    PAST_SLACK,
)
from bot.slack import blocks
from bot.slack.blocks import (
    ADMIN_APP_ID,
    ADMIN_APP_KEY,
    ADMIN_CORP_ID,
    ADMIN_MODE,
    DURATION_CHOICES,
    SCHEDULE_DURATION,
    AdminSetupForm,
    ScheduleForm,
)
from tests.slack.test_blocks import NOW, START, inputs, submission

UTC_ZONE = ZoneInfo("UTC")


def command(text: str) -> object:
    return parse_command(text, now=NOW, tz=UTC_ZONE)


@pytest.mark.parametrize(
    "length",
    [pytest.param(MAX_TOPIC_LENGTH, id="at-limit"), pytest.param(MAX_TOPIC_LENGTH + 1, id="over")],
)
def test_form_and_command_agree_on_the_topic_limit(length: int) -> None:
    topic = "x" * length

    by_command = command(f"now {topic}")
    by_form = blocks.read_schedule_modal(submission(topic=topic), now=NOW)

    assert isinstance(by_command, StartNow) == isinstance(by_form, ScheduleForm)
    assert isinstance(by_command, CommandError) == isinstance(by_form, dict)


@pytest.mark.parametrize(
    "count",
    [pytest.param(MAX_INVITEES, id="at-cap"), pytest.param(MAX_INVITEES + 1, id="over")],
)
def test_form_and_command_agree_on_the_invitee_cap(count: int) -> None:
    users = [f"U{n:010d}" for n in range(count)]

    by_command = command("Plan tomorrow 3pm with " + " ".join(f"<@{u}>" for u in users))
    by_form = blocks.read_schedule_modal(submission(users=users), now=NOW)

    assert isinstance(by_command, Schedule) == isinstance(by_form, ScheduleForm)
    assert isinstance(by_command, CommandError) == isinstance(by_form, dict)


def test_form_durations_lie_within_the_commands_range() -> None:
    assert all(MIN_DURATION_MINUTES <= m <= MAX_DURATION_MINUTES for m in DURATION_CHOICES)


def test_form_starts_with_the_commands_default_duration() -> None:
    scheduled = command("Retro tomorrow 3pm")
    assert isinstance(scheduled, Schedule)

    view = blocks.render_schedule_modal(initial_epoch=None, private_metadata="")

    initial = inputs(view)[SCHEDULE_DURATION]["element"]["initial_option"]["value"]
    assert initial == str(scheduled.duration_minutes)


@pytest.mark.parametrize(
    ("start", "accepted"),
    [
        pytest.param(NOW - PAST_SLACK, True, id="grace-edge"),
        pytest.param(NOW - PAST_SLACK - timedelta(seconds=1), False, id="past"),
        pytest.param(NOW + timedelta(days=MAX_DAYS_AHEAD), True, id="window-edge"),
        pytest.param(NOW + timedelta(days=MAX_DAYS_AHEAD, seconds=1), False, id="too-far"),
    ],
)
def test_form_uses_the_commands_scheduling_window(start: datetime, accepted: bool) -> None:
    form = blocks.read_schedule_modal(submission(epoch=int(start.timestamp())), now=NOW)

    assert isinstance(form, ScheduleForm) is accepted


def _at(moment: datetime) -> str:
    """`moment` as the command writes it (read in UTC_ZONE)."""
    return f"{moment:%Y-%m-%d %H:%M}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


_LONGEST = "x" * MAX_TOPIC_LENGTH
_PEOPLE = [f"U{n:010d}" for n in range(MAX_INVITEES + 1)]


def _with(users: list[str]) -> str:
    return "with " + " ".join(f"<@{user}>" for user in users)


@pytest.mark.parametrize(
    ("text", "form", "accepted"),
    [
        pytest.param(f"{_LONGEST} {_at(START)}", {"topic": _LONGEST}, True, id="topic-at-limit"),
        pytest.param(
            f"{_LONGEST}y {_at(START)}", {"topic": _LONGEST + "y"}, False, id="topic-one-over"
        ),
        pytest.param(
            f"Plan {_at(NOW - PAST_SLACK)}",
            {"epoch": _epoch(NOW - PAST_SLACK)},
            True,
            id="start-one-minute-ago",
        ),
        pytest.param(
            f"Plan {_at(NOW - 2 * PAST_SLACK)}",
            {"epoch": _epoch(NOW - 2 * PAST_SLACK)},
            False,
            id="start-two-minutes-ago",
        ),
        pytest.param(
            f"Plan {_at(NOW + timedelta(days=MAX_DAYS_AHEAD))}",
            {"epoch": _epoch(NOW + timedelta(days=MAX_DAYS_AHEAD))},
            True,
            id="start-at-window-end",
        ),
        pytest.param(
            f"Plan {_at(NOW + timedelta(days=MAX_DAYS_AHEAD + 1))}",
            {"epoch": _epoch(NOW + timedelta(days=MAX_DAYS_AHEAD + 1))},
            False,
            id="start-one-day-over",
        ),
        pytest.param(
            f"Plan {_at(START)} {_with(_PEOPLE[:MAX_INVITEES])}",
            {"users": _PEOPLE[:MAX_INVITEES]},
            True,
            id="invitees-at-cap",
        ),
        pytest.param(
            f"Plan {_at(START)} {_with(_PEOPLE)}", {"users": _PEOPLE}, False, id="invitees-one-over"
        ),
    ],
)
def test_form_and_command_agree_at_each_boundary(
    text: str, form: dict[str, Any], accepted: bool
) -> None:
    by_command = command(text)
    by_form = blocks.read_schedule_modal(submission(**form), now=NOW)

    assert isinstance(by_command, Schedule) is accepted
    assert isinstance(by_form, ScheduleForm) is accepted
    if not accepted:
        assert isinstance(by_command, CommandError | Ambiguous)  # a past time today: asked
        assert isinstance(by_form, dict)
        assert len(by_form) == 1  # only the field at its boundary


@pytest.mark.parametrize("minutes", DURATION_CHOICES)
def test_form_offers_only_durations_the_command_accepts(minutes: int) -> None:
    by_command = command(f"Plan {_at(START)} for {minutes}m")
    by_form = blocks.read_schedule_modal(submission(duration=str(minutes)), now=NOW)

    assert isinstance(by_command, Schedule)
    assert by_command.duration_minutes == minutes
    assert isinstance(by_form, ScheduleForm)
    assert by_form.duration_minutes == minutes


def setup_submission(
    *, app_id: str | None, app_key: str | None, corp_id: str | None, mode: str | None
) -> dict[str, Any]:
    """A view_submission's `view` as Slack sends it for the setup modal."""

    def text(block_id: str, value: str | None) -> dict[str, Any]:
        return {block_id: {"type": "plain_text_input", "value": value}}

    chosen = None if mode is None else {"text": {"type": "plain_text", "text": mode}, "value": mode}
    return {
        "state": {
            "values": {
                ADMIN_APP_ID: text(ADMIN_APP_ID, app_id),
                ADMIN_APP_KEY: text(ADMIN_APP_KEY, app_key),
                ADMIN_CORP_ID: text(ADMIN_CORP_ID, corp_id),
                ADMIN_MODE: {ADMIN_MODE: {"type": "static_select", "selected_option": chosen}},
            }
        }
    }


def test_setup_modal_is_read_back_trimmed() -> None:
    view = setup_submission(app_id=" app-1 ", app_key=" key ", corp_id=" corp ", mode="explicit")

    assert blocks.read_admin_setup_modal(view) == AdminSetupForm(
        app_id="app-1", app_key="key", corp_id="corp", mode="explicit"
    )


def test_setup_modal_keeps_the_key_and_defaults_to_email_when_left_empty() -> None:
    view = setup_submission(app_id="app-1", app_key="   ", corp_id=None, mode=None)

    assert blocks.read_admin_setup_modal(view) == AdminSetupForm(
        app_id="app-1", app_key=None, corp_id=None, mode="email"
    )
