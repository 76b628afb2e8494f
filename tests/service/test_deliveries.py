"""Which reminders a new meeting owes, as a table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from bot.service import reminder_deliveries
from tests.service.rows import T0, at

DAY = 24 * 60
Owed = tuple[datetime, str, datetime, object]
"""(occurrence, kind, due at, payload) of one reminder."""


@pytest.mark.parametrize(
    ("occurrences", "offsets", "now", "channel", "expected"),
    [
        pytest.param(
            [T0],
            (10, 0),
            at(-60),
            None,
            [(T0, "reminder:10", at(-10), None), (T0, "reminder:0", T0, None)],
            id="one-reminder-per-offset-before-the-start",
        ),
        pytest.param(
            [T0],
            (10, 0),
            at(-5),
            None,
            [(T0, "reminder:0", T0, None)],
            id="a-reminder-already-past-is-not-owed",
        ),
        pytest.param([T0], (10,), at(-10), None, [], id="a-reminder-due-right-now-is-not-owed"),
        pytest.param([T0], (), at(-60), None, [], id="no-offsets-no-reminders"),
        pytest.param(
            [T0, at(DAY)],
            (15,),
            at(-60),
            None,
            [(T0, "reminder:15", at(-15), None), (at(DAY), "reminder:15", at(DAY - 15), None)],
            id="a-recurring-meeting-owes-reminders-for-every-occurrence",
        ),
        pytest.param(
            [T0, at(DAY)],
            (15,),
            at(-10),
            None,
            [(at(DAY), "reminder:15", at(DAY - 15), None)],
            id="an-occurrence-too-close-gets-no-reminder-the-later-ones-do",
        ),
        pytest.param(
            [T0],
            (5,),
            at(-60),
            "CREMIND",
            [(T0, "reminder:5", at(-5), {"channel": "CREMIND"})],
            id="reminders-go-to-the-workspaces-reminder-channel-when-set",
        ),
    ],
)
def test_reminder_deliveries(
    occurrences: Sequence[datetime],
    offsets: Sequence[int],
    now: datetime,
    channel: str | None,
    expected: list[Owed],
) -> None:
    owed = reminder_deliveries(occurrences, offsets=offsets, now=now, channel_id=channel)
    assert [(d.occurrence, d.kind, d.due_at, d.payload) for d in owed] == expected
