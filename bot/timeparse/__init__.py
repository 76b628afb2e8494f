"""Time phrases inside free text ("tomorrow 3pm", "明天下午3点", "in 2 hours") -> aware datetimes.

Pure: `now` and the user's ZoneInfo are arguments. dateparser resolves the date words; the clock,
the Chinese forms, ranges, offsets and the time-zone arithmetic are ours (see `parse_when`).
Every repeat in the patterns of this package is bounded, so each costs linear time on any input.

Rooms: `_words` (vocabulary and bounds), `_duration` (parse_duration), `_scan` (the atoms of a
phrase, their runs, a run read as clock + date + range length), `_when` (parse_when, parse_date:
dates through dateparser, offsets, the zone).
"""

from __future__ import annotations

from bot.timeparse._duration import parse_duration
from bot.timeparse._when import FoundDates, FoundTime, find_dates, parse_date, parse_when, wall_time
from bot.timeparse._words import WEEKDAYS, ZH_WEEKDAYS

__all__ = [
    "WEEKDAYS",
    "ZH_WEEKDAYS",
    "FoundDates",
    "FoundTime",
    "find_dates",
    "parse_date",
    "parse_duration",
    "parse_when",
    "wall_time",
]
