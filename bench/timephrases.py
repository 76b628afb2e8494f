"""How well `parse_when` reads time phrases: right / refused / wrong, per language and kind.

Two corpora: the shared chrono corpus (../shared/data/time-phrases/chrono-time-cases.json,
read at run time, never copied here; only its timed cases, as its LIBRARIES.md counts them, with
its own reference time read as wall time in UTC) and our own /meet phrasings
(bench/data/meet_phrases.json: text, zone, now, expected start and duration, or "refuse").
dateparser alone (`dateparser.parse` on the whole text) is scored beside it on the shared corpus.

"right": the start matches (and the duration when the case gives one); "asked": not read as
the case's time, but /meet books nothing and offers the case's time as a one-click reading (a
past time the corpus moves to tomorrow: `parse_command` answers with readings, see the README);
"refused": None, or a start before `now` with no such reading; "wrong": any other start — a
meeting booked at the wrong moment. A "refuse" case is right when refused and wrong when read.

    .venv/bin/python -m bench.timephrases [--shared PATH] [--own PATH] [--show-wrong]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dateparser

from bot.commands import Ambiguous, parse_command
from bot.timeparse import parse_when

SHARED = Path(
    os.environ.get(
        "MEETBOT_TIME_PHRASES",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "time-phrases",
    )
)
UTC_ZONE = ZoneInfo("UTC")
OWN = Path(__file__).resolve().parent / "data" / "meet_phrases.json"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    lang: str
    kind: str
    text: str
    tz: ZoneInfo
    now: datetime
    start: datetime | None  # None: the parser should refuse
    duration: int | None


Reader = Callable[[Case], tuple[datetime | None, int | None]]


def shared_cases(path: Path) -> list[Case]:
    cases = []
    for raw in json.loads((path / "chrono-time-cases.json").read_text(encoding="utf-8")):
        expect = raw["expect"]
        if raw["kind"] == "date" or expect["hour"] is None:
            continue
        now = datetime.fromisoformat(raw["ref"]).replace(tzinfo=UTC_ZONE)
        start = datetime(
            expect["year"], expect["month"], expect["day"], expect["hour"], expect["minute"],
            tzinfo=UTC_ZONE,
        )  # fmt: skip
        cases.append(
            Case(raw["id"], raw["lang"], raw["kind"], raw["text"], UTC_ZONE, now, start, None)
        )
    return cases


def own_cases(path: Path) -> list[Case]:
    cases = []
    for raw in json.loads(path.read_text(encoding="utf-8")):
        tz = ZoneInfo(raw["zone"])
        now = datetime.fromisoformat(raw["now"]).replace(tzinfo=tz)
        start = None
        if raw["expect"] != "refuse":
            start = datetime.fromisoformat(raw["expect"]).replace(tzinfo=tz)
        cases.append(
            Case(raw["id"], raw["lang"], raw["kind"], raw["text"], tz, now, start,
                 raw.get("duration"))
        )  # fmt: skip
    return cases


def ours(case: Case) -> tuple[datetime | None, int | None]:
    found = parse_when(case.text, now=case.now, tz=case.tz)
    if found is None:
        return None, None
    return found.start, getattr(found, "duration", None)


def dateparser_alone(case: Case) -> tuple[datetime | None, int | None]:
    base = case.now.astimezone(case.tz).replace(tzinfo=None)
    settings: Any = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"}
    parsed = dateparser.parse(case.text, languages=["en", "zh"], settings=settings)
    return (None if parsed is None else parsed.replace(tzinfo=case.tz)), None


def verdict(case: Case, start: datetime | None, duration: int | None) -> str:
    if case.start is None:  # a phrase /meet must not book
        return "right" if start is None or start < case.now else "wrong"
    if start is None or start < case.now:
        return "refused"
    if start != case.start:
        return "wrong"
    if case.duration is not None and duration is not None and duration != case.duration:
        return "wrong"
    if case.duration is not None and duration is None:
        return "refused"  # the duration was dropped: not booked at a wrong time, but not read
    return "right"


def offered(case: Case) -> bool:
    """Whether /meet, given the case's text, asks with the case's time as one of its readings."""
    command = parse_command(case.text, now=case.now, tz=case.tz)
    return isinstance(command, Ambiguous) and any(
        reading.start == case.start for reading in command.readings
    )


def score(name: str, cases: list[Case], reader: Reader, *, show_wrong: bool) -> list[float]:
    by: dict[tuple[str, str], Counter[str]] = {}
    timings: list[float] = []
    wrong: list[str] = []
    for case in cases:
        began = time.perf_counter()
        start, duration = reader(case)
        timings.append((time.perf_counter() - began) * 1000)
        outcome = verdict(case, start, duration)
        if outcome == "refused" and reader is ours and offered(case):
            outcome = "asked"
        for key in ((case.lang, "all"), (case.lang, case.kind)):
            by.setdefault(key, Counter())[outcome] += 1
        if outcome != "right":
            wrong.append(
                f"    {outcome} {case.id} {case.text!r}: got {start} {duration}, want {case.start}"
            )
    print(f"  {name}")
    for (lang, kind), counts in sorted(
        by.items(), key=lambda item: (item[0][0], item[0][1] != "all")
    ):
        total = sum(counts.values())
        print(
            f"    {lang} {kind:<12} right {counts['right']:>3}/{total:<3} "
            f"({100 * counts['right'] / total:5.1f} %)  asked {counts['asked']:>2}  "
            f"refused {counts['refused']:>3}  "
            f"wrong {counts['wrong']:>3}"
        )
    if show_wrong:
        print("\n".join(wrong))
    return timings


def main() -> None:
    from bench.common import percentile

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--own", type=Path, default=OWN)
    parser.add_argument("--show-wrong", action="store_true")
    args = parser.parse_args()
    parse_when("tomorrow 3pm", now=datetime.now(UTC_ZONE), tz=UTC_ZONE)  # warm dateparser up
    timings: list[float] = []
    for title, cases in (
        (f"shared corpus ({args.shared})", shared_cases(args.shared)),
        (f"own corpus ({args.own})", own_cases(args.own) if args.own.exists() else []),
    ):
        if not cases:
            continue
        print(title)
        timings += score("parse_when", cases, ours, show_wrong=args.show_wrong)
        score("dateparser alone", cases, dateparser_alone, show_wrong=False)
    commands = []
    for case in shared_cases(args.shared) + (own_cases(args.own) if args.own.exists() else []):
        began = time.perf_counter()
        parse_command(case.text, now=case.now, tz=case.tz)  # the whole /meet grammar, asking
        commands.append((time.perf_counter() - began) * 1000)
    for name, measured in (("parse_when", timings), ("parse_command", commands)):
        measured.sort()
        print(
            f"{name} per call: p50 {percentile(measured, 50):.2f} ms, "
            f"p99 {percentile(measured, 99):.2f} ms, max {measured[-1]:.2f} ms"
        )


if __name__ == "__main__":
    main()
