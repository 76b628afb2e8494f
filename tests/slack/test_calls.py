"""The pure parts of Slack Calls: who a participant is to Slack, what to add and remove, how
long a call lasted, and one call object per occurrence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.service import StatusChange, StatusKind
from bot.slack.calls import GUEST_NAME, call_seconds, call_user, external_id, participants_delta
from tests.service.rows import T0, at, meeting

SLACK_IDS = {"alice@example.com": "UALICE"}


@pytest.mark.parametrize(
    ("person", "name", "expected"),
    [
        pytest.param(
            "alice@example.com", "Alice H.", {"slack_id": "UALICE"}, id="a-slack-user-by-id"
        ),
        pytest.param(
            "ann@example.com",
            "Ann",
            {"external_id": "ann@example.com", "display_name": "Ann"},
            id="external-with-name",
        ),
        pytest.param(
            "guest-7", "", {"external_id": "guest-7", "display_name": GUEST_NAME}, id="no-name"
        ),
        pytest.param(
            "guest-8",
            " \t\n ",
            {"external_id": "guest-8", "display_name": GUEST_NAME},
            id="blank-name",
        ),
        pytest.param(
            "guest-9",
            "  Bo \n Li ",
            {"external_id": "guest-9", "display_name": "Bo Li"},
            id="whitespace-folded",
        ),
        pytest.param(
            "guest-10",
            "x" * 500,
            {"external_id": "guest-10", "display_name": "x" * 80},
            id="long-name-clipped",
        ),
    ],
)
def test_every_participant_has_a_slack_id_or_a_display_name(
    person: str, name: str, expected: dict[str, str]
) -> None:
    assert call_user(person, name, slack_ids=SLACK_IDS) == expected


def test_participants_delta_adds_the_new_and_removes_the_gone() -> None:
    shown: list[dict[str, Any]] = [
        {"slack_id": "UALICE"},
        {"external_id": "ann@example.com", "display_name": "Ann"},
        {"external_id": "bo@example.com", "display_name": "Bo"},
    ]
    online = [("ann@example.com", "Ann"), ("cy@example.com", ""), ("cy@example.com", "")]

    joined, left = participants_delta(online, shown, slack_ids=SLACK_IDS)

    assert joined == [{"external_id": "cy@example.com", "display_name": GUEST_NAME}]
    assert left == [{"slack_id": "UALICE"}, {"external_id": "bo@example.com"}]


def test_participants_delta_is_empty_when_the_call_shows_everyone() -> None:
    shown = [{"slack_id": "UALICE"}, {"external_id": "x", "display_name": "X"}]
    online = [("alice@example.com", "Alice"), ("x", "X")]
    assert participants_delta(online, shown, slack_ids=SLACK_IDS) == ([], [])


@pytest.mark.parametrize(
    ("change", "seconds"),
    [
        pytest.param(
            StatusChange(
                StatusKind.ENDED,
                meeting(),
                T0,
                lasted_minutes=30,
                started_at=at(0),
                ended_at=at(30) + timedelta(seconds=17),
            ),
            30 * 60 + 17,
            id="exact-from-vendor-times",
        ),
        pytest.param(
            StatusChange(StatusKind.ENDED, meeting(), T0, lasted_minutes=12),
            12 * 60,
            id="minutes-when-times-unknown",
        ),
        pytest.param(StatusChange(StatusKind.NOT_HELD, meeting(), T0), 0, id="never-held"),
    ],
)
def test_call_seconds(change: StatusChange, seconds: int) -> None:
    assert call_seconds(change) == seconds


def test_each_occurrence_has_its_own_call_identity() -> None:
    daily = meeting(occurrences=(T0, T0 + timedelta(days=1)))
    first = external_id(daily, T0)
    second = external_id(daily, T0 + timedelta(days=1))
    assert first != second
    assert first.startswith(daily.conference_id)
