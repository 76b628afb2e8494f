"""Long, hostile command texts: runs that made the parsers' regular expressions backtrack.

Shared by tests/test_parse_adversarial.py and bench/parse_worst.py.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Shape(NamedTuple):
    """`head`, then `unit` repeated to fill the length, then `tail`."""

    name: str
    head: str
    unit: str
    tail: str


SHAPES: Final = (
    Shape("spaces", "", " ", ""),
    Shape("spaces-then-x", "", " ", "x"),
    Shape("spaces-in-offset", "in", " ", "2 hours"),
    Shape("newlines", "", "\n", ""),
    Shape("newlines-then-hours", "", "\n", "hours"),
    Shape("tabs-and-ideographic-spaces", "", "\t\u3000", "小时后"),
    Shape("crlf", "", "\r\n", "in"),
    Shape("digits", "", "9", ""),
    Shape("digits-then-hours", "in ", "9", " hours"),
    Shape("digits-then-小时后", "", "9", "小时后"),
    Shape("digits-then-点", "", "9", "点"),
    Shape("digits-with-dots", "", "1.", "h"),
    Shape("digits-spaced", "", "1 ", "x"),
    Shape("十", "", "十", ""),
    Shape("十-then-小时后", "", "十", "小时后"),
    Shape("一二三", "", "一二三", ""),
    Shape("一二三-then-点", "", "一二三", "点"),
    Shape("半小时", "", "半小时", "后"),
    Shape("个", "", "个", "小时"),
    Shape("点", "", "点", ""),
    Shape("1小时30分钟", "", "1小时30分钟", "后"),
    Shape("周一", "", "周一", "下午3点"),
    Shape("1h", "", "1h ", ""),
    Shape("1h-then-x", "", "1h ", "x"),
    Shape("1h30m", "in ", "1h30m", ""),
    Shape("in-2-hours", "", "in 2 hours ", ""),
    Shape("in-in", "", "in ", "2 hours"),
    Shape("in-space-digits", "", "in 1", "x"),
    Shape("and", "", "and ", ""),
    Shape("1h-and", "in ", "1h and ", "x"),
    Shape("an-hour-and", "in ", "an hour and ", "x"),
    Shape("m", "", "m", ""),
    Shape("1m", "", "1m", "x"),
    Shape("at-9", "", "at 9 ", ""),
    Shape("at-9-then-x", "", "at 9 ", "x"),
    Shape("3pm-4pm", "", "3pm 4pm ", ""),
    Shape("tomorrow", "", "tomorrow ", "3pm"),
    Shape("impossible-dates", "", "2/30 3pm x ", ""),
    Shape("impossible-iso", "", "2026-02-30 9:00 x ", ""),
    Shape("impossible-zh-dates", "", "2月30日 9点 x ", ""),
    Shape("dec", "", "dec ", "24 3pm"),
    Shape("dec-spaces", "dec", " ", "24"),
    Shape("dash-ranges", "", "10:00 - ", "11:00"),
    Shape("commas", "Sync 3pm", ", ", "x"),
    Shape("dangling-words", "Sync 3pm", " at on for with", ""),
    Shape("for", "", "for ", "1h"),
    Shape("for-digits", "Sync 3pm ", "for 1", "x"),
    Shape("every", "", "every ", "day"),
    Shape("every-mon-and", "Sync 3pm every ", "mon and ", "x"),
    Shape("every-mon-spaces", "Sync 3pm every mon", " ", "x"),
    Shape("until", "Sync 3pm every day ", "until ", "x"),
    Shape("with-mentions", "Sync 3pm ", "with <@U1> ", ""),
    Shape("open-markup", "", "<", "@U1"),
    Shape("long-mention-label", "<@U1|", "a", ">"),
    Shape("entities", "", "&amp;", ""),
    Shape("cancel-digits", "cancel ", "9", ""),
    Shape("admin-page-digits", "admin mappings ", "9", ""),
    Shape("admin-reminder-digits", "admin reminders ", "9", ""),
    Shape("admin-reminder-list", "admin reminders ", "1,", "0"),
)


def hostile_text(shape: Shape, length: int) -> str:
    """`shape` filled to exactly `length` characters."""
    room = length - len(shape.head) - len(shape.tail)
    body = (shape.unit * (room // len(shape.unit) + 1))[:room]
    return shape.head + body + shape.tail


CONTROL_TEXTS: Final = (
    "\x00",
    "cancel \x00",
    "cancel 1\x00",
    "\x1b[31m\x1b[0m",
    "\u202e\u202c",
    "\x0b\x0c\x1c\x1d\x1e\x1f",
    "\x7f\x08\x08\x08",
    "\ufffd\uffff\U0010ffff",
    "\ufeff\u200b\u2028\u2029",
    "admin \x00mappings \x00",
)
"""Command texts made of control, bidi, zero-width and noncharacter code points, with no
meeting in them (nothing in them can be scheduled, cancelled or set up)."""
