"""Durations: "45m", "1h30", "an hour", "一个半小时" -> minutes."""

from __future__ import annotations

import re
from typing import Final

from bot.timeparse._words import _INT, _NUM, _S, _S1, _ZH_NUM, _number

# --- durations ---------------------------------------------------------------------------------

_DURATION_PATTERN = rf"""
    (?P<an_hour>an?{_S1}hour(?P<and_half>{_S1}and{_S1}a{_S1}half)?)
  | (?P<half_hour>half{_S1}an{_S1}hour|a{_S1}half{_S1}hour|half{_S1}hour)
  | (?P<h>{_NUM}){_S}(?:hours?|hrs?|h)(?![a-z])
        (?:{_S}(?:and{_S1})?(?P<hm>{_INT})(?:{_S}(?:minutes?|mins?|m)(?![a-z]))?)?
  | (?P<m>{_INT}){_S}(?:minutes?|mins?|m)(?![a-z])
  | (?P<zh_h>{_ZH_NUM})?{_S}个?(?P<zh_half>半)?{_S}(?:小时|钟头)
        (?:{_S}(?P<zh_hm>{_ZH_NUM}){_S}分钟?)?
  | (?P<zh_m>{_ZH_NUM}){_S}分钟
"""
_DURATION: Final = re.compile(_DURATION_PATTERN, re.IGNORECASE | re.VERBOSE)
# The same shape without its named groups, so the time scanner can embed it.
_DURATION_SHAPE = re.sub(r"\(\?P<\w+>", "(?:", _DURATION_PATTERN)


def parse_duration(text: str) -> int | None:
    """Minutes in `text` as a whole: 45m, 1h, 1h30m, 1h 30, 90 minutes, 1.5h, 2 hours, 30 min,
    an hour, half an hour, 1小时, 半小时, 一个半小时, 1小时30分钟, 90分钟. None if unreadable.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    if match["an_hour"]:
        return 90 if match["and_half"] else 60
    if match["half_hour"]:
        return 30
    if match["h"] is not None:
        return round(float(match["h"]) * 60 + int(match["hm"] or 0))
    if match["m"] is not None:
        return int(match["m"])
    if match["zh_m"] is not None:
        minutes = _number(match["zh_m"])
        return None if minutes is None else round(minutes)
    if match["zh_h"] is None and not match["zh_half"]:
        return None  # a bare 小时
    hours = _number(match["zh_h"]) if match["zh_h"] else 0.0
    extra = _number(match["zh_hm"]) if match["zh_hm"] else 0.0
    if hours is None or extra is None:
        return None
    return round((hours + (0.5 if match["zh_half"] else 0.0)) * 60 + extra)
