"""The time scanner: atoms of a time phrase, their runs, and a run read as a clock, a date and
perhaps a range's length."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import partial
from typing import Final

from bot.timeparse._words import (
    _S,
    _S1,
    _WEEKDAY_NAMES,
    _ZH_DIGITS,
    _ZH_NUM,
    WEEKDAYS,
    ZH_WEEKDAYS,
    _number,
)

# --- the time scanner --------------------------------------------------------------------------
# Every piece of a time phrase is an "atom"; a phrase is a run of atoms separated only by spaces or
# commas that holds exactly one clock time. Words outside the vocabulary below never join a phrase,
# so "may", "march", "second", "now", "Q3", "1:1" or "Sprint 5" in a topic are left alone: a month
# counts only next to a day number, a bare number only as "at 9".

_L = r"(?<![A-Za-z0-9])"
_R = r"(?![A-Za-z0-9])"
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MONTH_RE = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = rf"(?:,?{_S1}\d{{4}})?"
_ZH_PERIOD = "上午|早上|早晨|凌晨|中午|下午|傍晚|晚上"
_ZH_DAYS: Final = {
    "今天": 0,
    "今日": 0,
    "今晚": 0,
    "明天": 1,
    "明日": 1,
    "明晚": 1,
    "后天": 2,
    "大后天": 3,
}
_ATOM: Final = re.compile(
    rf"""
      (?P<iso>{_L}\d{{4}}-\d{{1,2}}-\d{{1,2}}(?![A-Za-z0-9:-]))
    | (?P<md>{_L}\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?(?![A-Za-z0-9:/]))
    | (?P<month_day>{_L}(?:{_MONTH_RE})\.?{_S1}{_ORDINAL}{_YEAR}(?![A-Za-z0-9:]))
    | (?P<day_month>{_L}{_ORDINAL}{_S1}(?:of{_S1})?(?:{_MONTH_RE})\.?{_YEAR}(?![A-Za-z0-9:]))
    | (?P<ampm>{_L}(?P<ap_h>\d{{1,2}})(?::(?P<ap_m>\d{{2}}))?{_S}(?P<ap>[ap])\.?m\.?{_R})
    | (?P<oclock>{_L}(?:at{_S1})?(?P<oc_h>\d{{1,2}}){_S}o['\u2019]?{_S}clock{_R})
    | (?P<part_clock>{_L}(?:at{_S1})?(?P<pc_h>\d{{1,2}})(?::(?P<pc_m>\d{{2}}))?{_S1}
        (?:in{_S1}the{_S1}(?P<pc_part>morning|afternoon|evening)|at{_S1}(?P<pc_night>night)
          |(?P<pc_tonight>tonight)){_R})
    | (?P<hhmm>{_L}(?P<hh>\d{{1,2}}):(?P<mm>\d{{2}})(?![A-Za-z0-9:]))
    | (?P<noon>{_L}(?:noon|midnight){_R})
    | (?P<at_hour>{_L}at{_S1}(?P<at_h>\d{{1,2}})(?![A-Za-z0-9:./])(?!{_S}[ap]\.?m{_R}))
    | (?P<the_day>{_L}the{_S1}(?P<td>\d{{1,2}})(?:st|nd|rd|th){_R})
    | (?P<day>{_L}(?:today|tonight|yesterday|tomorrow|tmrw|tmr|(?:the{_S1})?day{_S1}after{_S1}tomorrow){_R})
    | (?P<weekday>{_L}(?:(?P<rel>next|this){_S1})?(?P<wd>{_WEEKDAY_RE})\.?
        (?P<of_week>{_S1}of{_S1}(?P<of_rel>this|next){_S1}week)?{_R})
    | (?P<in_days>{_L}in{_S1}\d{{1,3}}{_S1}(?:days?|weeks?){_R})
    | (?P<part>{_L}(?:morning|afternoon|evening|night){_R})
    | (?P<connector>{_L}(?:at|on|from){_R})
    | (?P<joiner>{_L}(?:to|until|till){_R}|[-\u2013\u2014~\uff5e]|到|至)
    | (?P<zh_day>大后天|后天|明天|明日|明晚|今天|今日|今晚)
    | (?P<zh_weekday>(?P<zh_rel>下下|下|这|本)?个?(?:周|星期|礼拜)(?P<zh_wd>[一二三四五六日天]))
    | (?P<zh_md>(?:(?P<zh_y>\d{{4}})年[\s,\uff0c]{{0,2}})?(?P<zh_mo>\d{{1,2}})月(?P<zh_d>\d{{1,2}})[日号])
    | (?P<zh_clock>(?:(?P<zh_p>{_ZH_PERIOD}){_S})?
        (?: (?P<zh_h>{_ZH_NUM}){_S}[点點时](?:{_S}(?:(?P<zh_half>半)|(?P<zh_q>[一三])刻|(?P<zh_m>{_ZH_NUM})(?:{_S}分)?))?
          | (?P<zh_h2>\d{{1,2}})[:\uff1a](?P<zh_m2>\d{{2}}) )
        (?:{_S}(?P<zh_ap>[ap])\.?m\.?{_R})?)
    | (?P<bare>{_L}(?P<b_h>\d{{1,2}})(?::(?P<b_m>\d{{2}}))?(?![A-Za-z0-9:./]))
    """,
    re.IGNORECASE | re.VERBOSE,
)
_GAP: Final = re.compile(r"[\s,\uff0c]{0,4}")
_PM_PERIODS: Final = frozenset({"中午", "下午", "傍晚", "晚上"})
_PM_HINTS: Final = frozenset({"tonight", "afternoon", "evening", "night", "今晚", "明晚"})
_MAX_RANGE: Final = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    text: str
    clock: time | None = None
    meridiem: bool = False  # the clock said am/pm (or a Chinese period), so no pm hint applies
    date_text: str | None = None  # what dateparser reads for the date part
    connector: bool = False
    joiner: bool = False  # "-", "to", "到": between the two clocks of a range
    unreadable: bool = False
    midnight: bool = False  # alone, the coming midnight: the end of today
    bare: bool = False  # a bare number ("3" in "3-4pm"): a clock only as a range's end


def _clock(hour: float | None, minute: float | None) -> time | None:
    if hour is None or minute is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if hour != int(hour) or minute != int(minute):
        return None
    return time(int(hour), int(minute))


def _zh_clock(match: re.Match[str]) -> time | None:
    period = match["zh_p"]
    if match["zh_h2"] is not None:
        hour: float | None = float(match["zh_h2"])
        minute: float | None = float(match["zh_m2"])
    else:
        hour = _number(match["zh_h"])
        minute = (
            30.0
            if match["zh_half"]
            else 15.0 * _ZH_DIGITS[match["zh_q"]]
            if match["zh_q"]
            else _number(match["zh_m"])
            if match["zh_m"]
            else 0.0
        )
    if match["zh_ap"]:
        if hour is None or not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["zh_ap"].lower() == "p" else 0)
    elif hour is not None and period is not None:
        if period in _PM_PERIODS and 1 <= hour < 12 and not (period == "中午" and hour >= 11):
            hour += 12
        elif period == "凌晨" and hour == 12:
            hour = 0
    return _clock(hour, minute)


def _zh_weekday_text(match: re.Match[str], today: date) -> str:
    weekday = ZH_WEEKDAYS[match["zh_wd"]]
    relative = match["zh_rel"]
    if relative is None:  # 周一: the coming Monday, as dateparser reads "monday"
        return _WEEKDAY_NAMES[weekday]
    # Chinese weeks run Monday to Sunday; 下周三 is Wednesday of next week even when said on a
    # Monday, which "next wednesday" would not give, so it becomes an explicit date.
    weeks = {"这": 0, "本": 0, "下": 1, "下下": 2}[relative]
    monday = today - timedelta(days=today.weekday())
    return (monday + timedelta(weeks=weeks, days=weekday)).isoformat()


def _part_clock(match: re.Match[str]) -> time | None:
    """ "11 at night", "6 in the afternoon", "9 in the morning", "11 tonight"; None for an hour
    the part of the day does not hold ("2 at night", "9 in the afternoon")."""
    hour, minute = int(match["pc_h"]), int(match["pc_m"] or 0)
    part = (match["pc_part"] or "night").lower()
    if part == "morning":
        return _clock(hour, minute) if 1 <= hour <= 11 else None
    if part == "afternoon":
        return _clock(hour % 12 + 12, minute) if 1 <= hour <= 7 or hour == 12 else None
    return _clock(hour + 12, minute) if 6 <= hour <= 11 else None  # evening, night


def _day_of_month(day: int, today: date) -> date | None:
    """ "the 24th": this month's when it is not past, else next month's; None if that month has
    no such day (refused rather than moved)."""
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _atom(match: re.Match[str], today: date) -> _Atom | None:
    kind, text = match.lastgroup, match.group()
    at = partial(_Atom, match.start(), match.end(), text)
    match kind:
        case "ampm":
            hour = int(match["ap_h"])
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if match["ap"].lower() == "p" else 0)
            clock = _clock(hour, int(match["ap_m"] or 0))
            return None if clock is None else at(clock=clock, meridiem=True)
        case "hhmm":
            clock = _clock(int(match["hh"]), int(match["mm"]))
            return None if clock is None else at(clock=clock)
        case "at_hour" | "oclock":
            clock = _clock(int(match["at_h"] or match["oc_h"]), 0)
            return None if clock is None else at(clock=clock)
        case "bare":
            clock = _clock(int(match["b_h"]), int(match["b_m"] or 0))
            return None if clock is None else at(clock=clock, bare=True)
        case "part_clock":
            clock = _part_clock(match)
            date_text = "today" if match["pc_tonight"] else None
            return None if clock is None else at(clock=clock, meridiem=True, date_text=date_text)
        case "the_day":
            day = _day_of_month(int(match["td"]), today)
            return None if day is None else at(date_text=day.isoformat())
        case "joiner":
            return at(joiner=True)
        case "noon":
            if text.lower() == "noon":
                return at(clock=time(12), meridiem=True)
            return at(clock=time(0), meridiem=True, midnight=True)
        case "zh_clock":
            clock = _zh_clock(match)
            return (
                None
                if clock is None
                else at(clock=clock, meridiem=bool(match["zh_p"] or match["zh_ap"]))
            )
        case "day":
            word = text.lower()
            aliases = {"tonight": "today", "tmrw": "tomorrow", "tmr": "tomorrow"}
            return at(date_text="in 2 days" if "after" in word else aliases.get(word, word))
        case "weekday" if match["of_week"]:
            if match["rel"]:
                return None  # "next friday of next week"
            weeks = 1 if match["of_rel"].lower() == "next" else 0
            monday = today - timedelta(days=today.weekday())
            day = monday + timedelta(weeks=weeks, days=WEEKDAYS[match["wd"].lower()])
            return at(date_text=day.isoformat())
        case "weekday":
            relative = f"{match['rel'].lower()} " if match["rel"] else ""
            return at(date_text=relative + _WEEKDAY_NAMES[WEEKDAYS[match["wd"].lower()]])
        case "iso" | "md" | "month_day" | "day_month" | "in_days":
            return at(date_text=text.lower())
        case "zh_day":
            return at(date_text=(today + timedelta(days=_ZH_DAYS[text])).isoformat())
        case "zh_weekday":
            return at(date_text=_zh_weekday_text(match, today))
        case "zh_md":
            month_day = f"{int(match['zh_mo'])}/{int(match['zh_d'])}"
            return at(date_text=f"{month_day}/{match['zh_y']}" if match["zh_y"] else month_day)
        case "part":
            return at()
        case _:
            return at(connector=True)


def _runs(text: str, today: date) -> Iterator[list[_Atom]]:
    """Maximal runs of atoms with only spaces or commas between them, cut at every bare number
    that is not one end of a range whose other end is a real clock ("5" in "Sprint 5")."""
    run: list[_Atom] = []
    for match in _ATOM.finditer(text):
        atom = _atom(match, today)
        if atom is None:
            if match.lastgroup == "bare":
                continue  # "Sprint 99"
            # An unreadable time word ("the 31st" in April, "13pm") spoils its run: the rest
            # alone would be a guess.
            atom = _Atom(match.start(), match.end(), match.group(), unreadable=True)
        if run and not _GAP.fullmatch(text, run[-1].end, atom.start):
            yield from _cut_bare(run)
            run = []
        run.append(atom)
    if run:
        yield from _cut_bare(run)


def _range_end(run: list[_Atom], index: int, step: int) -> bool:
    """Whether run[index] is joined, across the joiner at index+step, to a clock that is not bare."""
    joiner, other = index + step, index + 2 * step
    if not (0 <= joiner < len(run) and 0 <= other < len(run)) or not run[joiner].joiner:
        return False
    return run[other].clock is not None and not run[other].bare


def _cut_bare(run: list[_Atom]) -> Iterator[list[_Atom]]:
    piece: list[_Atom] = []
    for index, atom in enumerate(run):
        if atom.bare and not (_range_end(run, index, 1) or _range_end(run, index, -1)):
            if piece:
                yield piece
            piece = []
        else:
            piece.append(atom)
    if piece:
        yield piece


def _reading(run: list[_Atom]) -> tuple[time, str | None, int | None] | None:
    """The run's clock time, its date text (None: today) and, for a range, its length in
    minutes: if it holds one clock time, or two joined by one joiner ("3-4pm", "2点到3点"), and
    one date (said once, or the same date said at both ends: 明天10点到明天11点)."""
    clocks = [index for index, atom in enumerate(run) if atom.clock is not None]
    dates = {atom.date_text for atom in run if atom.date_text is not None}
    joiners = [index for index, atom in enumerate(run) if atom.joiner]
    if any(atom.unreadable for atom in run):
        return None
    if len(dates) > 1 or len(clocks) not in (1, 2) or len(joiners) != len(clocks) - 1:
        return None
    if len(clocks) == 2 and not clocks[0] < joiners[0] < clocks[1]:
        return None
    pm_hint = any(atom.text.lower() in _PM_HINTS for atom in run)
    ends = [_hinted(run[index], clock, pm_hint) for index in clocks if (clock := run[index].clock)]
    date_text = next(iter(dates), None)
    if date_text is None and len(clocks) == 1 and run[clocks[0]].midnight:
        date_text = "tomorrow"  # "midnight" at noon; "midnight on 12th August" is its 00:00
    if len(ends) == 1:
        return None if ends[0][2] else (ends[0][0], date_text, None)
    span = _range(ends[0], ends[1])
    return None if span is None else (span[0], date_text, span[1])


_End = tuple[time, bool, bool]  # clock, said its meridiem, bare number


def _hinted(atom: _Atom, clock: time, pm_hint: bool) -> _End:
    if not atom.meridiem and pm_hint and 1 <= clock.hour < 12:  # "tonight at 8", "明晚8点"
        return clock.replace(hour=clock.hour + 12), True, atom.bare
    return clock, atom.meridiem, atom.bare


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _range(start: _End, end: _End) -> tuple[time, int] | None:
    """A range's start and length. An end without am/pm takes the other end's half of the day:
    "3-4pm" is 15:00 for 60 minutes, "8pm - 11" 20:00 for 180, "11-1pm" 11:00 for 120; a bare
    start of 1 to 6 with no am/pm anywhere is an afternoon ("from 2 to 3:30"). An end at or before
    the start is the next day's ("晚上10点 - 2点": 4 hours). Longer than 12 hours: None."""
    (first, first_said, first_bare), (last, last_said, _) = start, end
    firsts, lasts = [first], [last]
    if not first_said and last_said and 1 <= first.hour <= 12:
        half = 12 if last.hour >= 12 else 0
        firsts = [first.replace(hour=first.hour % 12 + half), first.replace(hour=first.hour % 12)]
        firsts = [clock for clock in firsts if _minutes(clock) < _minutes(last)] or firsts[:1]
    elif first_said and not last_said and 1 <= last.hour <= 12:
        lasts = [last.replace(hour=last.hour % 12), last.replace(hour=last.hour % 12 + 12)]
    elif not first_said and not last_said and first_bare and 1 <= first.hour <= 6:
        if last.hour > 12:
            return None
        firsts = [first.replace(hour=first.hour + 12)]
        lasts = [last.replace(hour=last.hour % 12 + 12)]
    clock = firsts[0]
    length = min((_minutes(end) - _minutes(clock)) % 1440 or 1440 for end in lasts)
    return (clock, length) if length <= _MAX_RANGE.total_seconds() // 60 else None
