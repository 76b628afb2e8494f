"""bot.rules: each shared check at and around its limits, and the rules' own shape (one home,
stdlib only, one vocabulary for the stored words)."""

from __future__ import annotations

import ast
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import rules, service
from bot.rules import (
    DUPLICATE_WINDOW,
    MAX_DAYS_AHEAD,
    MAX_DURATION_MINUTES,
    MAX_INVITEES,
    MAX_TOPIC_LENGTH,
    MIN_DURATION_MINUTES,
    PAST_SLACK,
    ErrorKind,
    duration_problem,
    invitees_problem,
    is_duplicate,
    same_topic,
    start_problem,
    topic_problem,
)
from bot.slack.blocks import MAPPING_MODES, CardState, NotMappedReason
from storage import models, vocabulary

NOW = datetime(2026, 12, 24, 11, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("Standup", None, id="short"),
        pytest.param("x" * (MAX_TOPIC_LENGTH - 1), None, id="one-under"),
        pytest.param("x" * MAX_TOPIC_LENGTH, None, id="at-limit"),
        pytest.param("x" * (MAX_TOPIC_LENGTH + 1), ErrorKind.TOPIC_TOO_LONG, id="one-over"),
        pytest.param("会" * MAX_TOPIC_LENGTH, None, id="wide-at-limit"),
        pytest.param("会" * (MAX_TOPIC_LENGTH + 1), ErrorKind.TOPIC_TOO_LONG, id="wide-over"),
    ],
)
def test_topic_problem(topic: str, expected: ErrorKind | None) -> None:
    assert topic_problem(topic) is expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(NOW - timedelta(days=1), ErrorKind.PAST_TIME, id="yesterday"),
        pytest.param(NOW - PAST_SLACK - timedelta(seconds=1), ErrorKind.PAST_TIME, id="past"),
        pytest.param(NOW - PAST_SLACK, None, id="grace-edge"),
        pytest.param(NOW, None, id="now"),
        pytest.param(NOW + timedelta(hours=3), None, id="later-today"),
        pytest.param(NOW + timedelta(days=MAX_DAYS_AHEAD), None, id="window-end"),
        pytest.param(
            NOW + timedelta(days=MAX_DAYS_AHEAD, seconds=1),
            ErrorKind.TOO_FAR_AHEAD,
            id="just-past-window",
        ),
        pytest.param(
            NOW + timedelta(days=MAX_DAYS_AHEAD + 1), ErrorKind.TOO_FAR_AHEAD, id="day-over"
        ),
    ],
)
def test_start_problem(start: datetime, expected: ErrorKind | None) -> None:
    assert start_problem(start, NOW) is expected


def test_start_problem_compares_instants_not_wall_clocks() -> None:
    tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))

    assert start_problem(tokyo - PAST_SLACK, NOW) is None
    assert start_problem(NOW - PAST_SLACK - timedelta(seconds=1), tokyo) is ErrorKind.PAST_TIME


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        pytest.param(0, ErrorKind.DURATION_OUT_OF_RANGE, id="zero"),
        pytest.param(MIN_DURATION_MINUTES - 1, ErrorKind.DURATION_OUT_OF_RANGE, id="under"),
        pytest.param(MIN_DURATION_MINUTES, None, id="min"),
        pytest.param(rules.DEFAULT_DURATION_MINUTES, None, id="default"),
        pytest.param(MAX_DURATION_MINUTES, None, id="max"),
        pytest.param(MAX_DURATION_MINUTES + 1, ErrorKind.DURATION_OUT_OF_RANGE, id="over"),
        pytest.param(-30, ErrorKind.DURATION_OUT_OF_RANGE, id="negative"),
    ],
)
def test_duration_problem(minutes: int, expected: ErrorKind | None) -> None:
    assert duration_problem(minutes) is expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(0, None, id="none"),
        pytest.param(1, None, id="one"),
        pytest.param(MAX_INVITEES, None, id="at-cap"),
        pytest.param(MAX_INVITEES + 1, ErrorKind.TOO_MANY_INVITEES, id="one-over"),
    ],
)
def test_invitees_problem(count: int, expected: ErrorKind | None) -> None:
    assert invitees_problem(count) is expected


# --- the rules' shape -----------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        pytest.param("bot/rules.py", {"storage.vocabulary"}, id="rules"),
        pytest.param("storage/vocabulary.py", set(), id="vocabulary"),
    ],
)
def test_rules_are_pure(path: str, allowed: set[str]) -> None:
    ours = {
        name for name in _imports(ROOT / path) if name.split(".")[0] not in sys.stdlib_module_names
    }
    assert ours <= allowed


def test_default_duration_is_within_the_range() -> None:
    assert duration_problem(rules.DEFAULT_DURATION_MINUTES) is None


def test_the_stored_words_have_one_home() -> None:
    assert rules.MappingMode is vocabulary.MappingMode is models.MappingMode
    assert rules.MeetingState is vocabulary.MeetingState is models.MeetingState
    assert CardState is rules.MeetingState
    assert set(rules.OPEN_STATES) < {state.value for state in rules.MeetingState}
    assert rules.PRIVATE_CARD not in {state.value for state in rules.MeetingState}


def test_one_not_mapped_reason_for_service_and_renderer() -> None:
    assert service.NotMappedReason is NotMappedReason is rules.NotMappedReason


def test_every_mapping_mode_has_one_label() -> None:
    assert [mode for mode, _ in MAPPING_MODES] == [mode.value for mode in rules.MappingMode]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("Standup", "Standup", True, id="equal"),
        pytest.param("Design Review", "design review", True, id="case"),
        pytest.param("  Design\t review ", "Design review", True, id="whitespace"),
        pytest.param("STRASSE", "straße", True, id="casefold"),
        pytest.param("Design review", "Design reviews", False, id="different"),
        pytest.param("Designreview", "Design review", False, id="space-matters-between-words"),
    ],
)
def test_same_topic_ignores_case_and_whitespace_only(a: str, b: str, expected: bool) -> None:
    assert same_topic(a, b) is expected


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("topic", "start", "created_ago", "expected"),
    [
        pytest.param("standup ", NOW + HOUR, timedelta(seconds=5), True, id="double-click"),
        pytest.param("Standup", NOW + HOUR, DUPLICATE_WINDOW, True, id="window-edge"),
        pytest.param(
            "Standup", NOW + HOUR, DUPLICATE_WINDOW + timedelta(seconds=1), False, id="too-late"
        ),
        pytest.param("Retro", NOW + HOUR, timedelta(seconds=5), False, id="other-topic"),
        pytest.param(
            "Standup", NOW + HOUR + timedelta(minutes=15), timedelta(0), True, id="overlaps"
        ),
        pytest.param(
            "Standup", NOW + HOUR + timedelta(minutes=30), timedelta(0), False, id="touching-after"
        ),
        pytest.param(
            "Standup", NOW + HOUR - timedelta(minutes=30), timedelta(0), False, id="touching-before"
        ),
        pytest.param("Standup", NOW + 2 * HOUR, timedelta(0), False, id="later-same-day"),
    ],
)
def test_is_duplicate_needs_same_topic_overlap_and_recency(
    topic: str, start: datetime, created_ago: timedelta, expected: bool
) -> None:
    earlier_start = NOW + HOUR
    assert (
        is_duplicate(
            topic=topic,
            start=start,
            end=start + timedelta(minutes=30),
            earlier_topic="Standup",
            earlier_start=earlier_start,
            earlier_end=earlier_start + timedelta(minutes=30),
            earlier_created=NOW - created_ago,
            now=NOW,
        )
        is expected
    )
