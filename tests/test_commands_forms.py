"""`form_of`: which /meet text opens a form, decided without a clock or a time zone, and always
in agreement with the full grammar (parse_command)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import commands as cmd

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        pytest.param("schedule", cmd.OpenScheduleModal(), id="schedule"),
        pytest.param("  SCHEDULE \n", cmd.OpenScheduleModal(), id="schedule-spaced-upper"),
        pytest.param("admin setup", cmd.AdminSetup(), id="admin-setup"),
        pytest.param("Admin   Setup", cmd.AdminSetup(), id="admin-setup-mixed-case"),
        pytest.param("schedule review tomorrow 3pm", None, id="a-meeting-named-schedule"),
        pytest.param("admin check", None, id="other-admin-command"),
        pytest.param("admin", None, id="admin-alone"),
        pytest.param("admin map", None, id="admin-command-with-an-error"),
        pytest.param("", None, id="instant-meeting"),
        pytest.param("help", None, id="help"),
        pytest.param("Retro tomorrow 4pm", None, id="text-schedule"),
        pytest.param("admin setup " + "x" * 1000, None, id="too-long"),
    ],
)
def test_form_of_agrees_with_the_grammar(text: str, form: cmd.Command | None) -> None:
    assert cmd.form_of(text) == form
    parsed = cmd.parse_command(text, now=NOW, tz=ZoneInfo("Asia/Shanghai"))
    opens_a_form = isinstance(parsed, cmd.OpenScheduleModal | cmd.AdminSetup)
    assert opens_a_form == (form is not None)
    if form is not None:
        assert parsed == form
