"""The vocabulary and the bounds every pattern of the time reader shares."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

WEEKDAYS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "monday": 0, "mon": 0,
        "tuesday": 1, "tues": 1, "tue": 1,
        "wednesday": 2, "weds": 2, "wed": 2,
        "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
        "friday": 4, "fri": 4,
        "saturday": 5, "sat": 5,
        "sunday": 6, "sun": 6,
    }
)  # fmt: skip
"""English weekday spellings -> 0=Monday … 6=Sunday."""

ZH_WEEKDAYS: Final[Mapping[str, int]] = MappingProxyType(
    {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
)
"""The character after 周/星期/礼拜 -> 0=Monday … 6=Sunday."""

_WEEKDAY_NAMES: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_ZH_DIGITS: Final = {"零": 0, "\u3007": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_LANGUAGES: Final = ["en", "zh"]

# Bounded repeats. Whitespace between the words of a phrase: parse_command squeezes every run to
# one space, and a direct caller gets a few. Numbers: at most _DIGITS digits, and never part of a
# longer number, so "in 99999999999 hours" is not an offset and no int() sees 4300 digits.
# 999999 hours is 114 years: larger than any meeting or offset, far inside timedelta's range.
_DIGITS: Final = 6
_S = r"\s{0,3}"
_S1 = r"\s{1,3}"


_INT = rf"(?<![\d.])\d{{1,{_DIGITS}}}(?!\d)"
_NUM = rf"(?<![\d.])\d{{1,{_DIGITS}}}(?:\.\d{{1,{_DIGITS}}})?(?!\d)"
_ZH_NUM = rf"(?:{_NUM}|[零〇一二两三四五六七八九十]{{1,3}})"


def _number(text: str) -> float | None:
    """An Arabic number or a Chinese one up to 99 (十五, 二十, 两)."""
    if re.fullmatch(_NUM, text):
        return float(text)
    tens, ten, ones = text.partition("十")
    if not ten:
        return float(_ZH_DIGITS[text]) if text in _ZH_DIGITS else None
    if (tens and tens not in _ZH_DIGITS) or (ones and ones not in _ZH_DIGITS):
        return None
    return float((_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0))
