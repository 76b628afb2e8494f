"""Every public parser of user text against long, hostile input: each call must be quick.

The bound is deliberately generous (a call takes microseconds to a few milliseconds): it catches
regular expressions that backtrack super-linearly, which took seconds to minutes on these inputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.commands import MAX_COMMAND_LENGTH, CommandError, ErrorKind, parse_command
from bot.timeparse import parse_date, parse_duration, parse_when
from tests.hostile_text import SHAPES, hostile_text

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=NEW_YORK)
LIMIT_SECONDS = 0.5
INNER_LENGTH = 10_000
"""parse_when, parse_date and parse_duration are public and have no length cap of their own."""

PARSERS: dict[str, Callable[[str], object]] = {
    "parse_command": lambda text: parse_command(text, now=NOW, tz=NEW_YORK),
    "parse_when": lambda text: parse_when(text, now=NOW, tz=NEW_YORK),
    "parse_date": lambda text: parse_date(text, now=NOW, tz=NEW_YORK),
    "parse_duration": parse_duration,
}


def texts(length: int, *, squeezable: bool = True) -> list[object]:
    """One text per shape; without the shapes of whitespace alone unless `squeezable`."""
    return [
        pytest.param(hostile_text(shape, length), id=shape.name)
        for shape in SHAPES
        if squeezable or shape.unit.strip()
    ]


@pytest.fixture(scope="module", autouse=True)
def _warm_dateparser() -> None:
    """dateparser loads its language data on first use; that one-off cost is not a parse."""
    parse_when("tomorrow 3pm", now=NOW, tz=NEW_YORK)


def seconds(parser: str, text: str) -> float:
    started = time.perf_counter()
    PARSERS[parser](text)
    return time.perf_counter() - started


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("text", texts(INNER_LENGTH))
def test_each_parser_reads_10000_hostile_characters_quickly(parser: str, text: str) -> None:
    elapsed = seconds(parser, text)

    assert elapsed < LIMIT_SECONDS, f"{parser} took {elapsed:.2f} s"


@pytest.mark.parametrize("text", texts(MAX_COMMAND_LENGTH))
def test_a_hostile_command_at_the_length_limit_is_read_quickly(text: str) -> None:
    elapsed = seconds("parse_command", text)

    assert elapsed < LIMIT_SECONDS, f"parse_command took {elapsed:.2f} s"


# Runs of whitespace shrink to one space before the length is counted.
@pytest.mark.parametrize("text", texts(INNER_LENGTH, squeezable=False))
def test_a_hostile_command_over_the_length_limit_is_refused(text: str) -> None:
    answer = parse_command(text, now=NOW, tz=NEW_YORK)

    assert isinstance(answer, CommandError)
    assert answer.kind is ErrorKind.COMMAND_TOO_LONG
