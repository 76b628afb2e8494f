"""How long one parse takes: the worst hostile input, and a typical /meet line.

(a) Every shape of tests/hostile_text.py at --length characters through each public parser
(parse_command, parse_when, parse_date, parse_duration), one call each, after the first
(cold) call; prints the slowest calls. (b) parse_command on typical lines, --repeat times each; prints
the median, p99 and maximum.

    .venv/bin/python -m bench.parse_worst [--length 1000 --repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.common import percentile
from bot.commands import parse_command
from bot.timeparse import parse_date, parse_duration, parse_when
from tests.hostile_text import SHAPES, hostile_text

TZ = ZoneInfo("America/New_York")
TYPICAL = (
    "Planning tomorrow 3pm for 45m with <@U123>",
    "Design review next mon 09:30 for 1h with <@U123|alice> <@U456|bob>",
    "Standup monday 9:30 every weekday until 6/30",
    "周会 明天下午3点 时长1小时",
    "Retro in 2 hours",
    "Quarterly planning",
)


def _parsers(now: datetime) -> dict[str, Callable[[str], object]]:
    return {
        "parse_command": lambda text: parse_command(text, now=now, tz=TZ),
        "parse_when": lambda text: parse_when(text, now=now, tz=TZ),
        "parse_date": lambda text: parse_date(text, now=now, tz=TZ),
        "parse_duration": parse_duration,
    }


def _seconds(parse: Callable[[str], object], text: str) -> tuple[float, str]:
    """Seconds one call took, and the exception it raised (a parser must never raise)."""
    started = time.perf_counter()
    try:
        parse(text)
    except Exception as exc:  # measured and reported, like any other outcome
        return time.perf_counter() - started, f"raised {type(exc).__name__}"
    return time.perf_counter() - started, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    now = datetime.now(UTC)
    parsers = _parsers(now)
    first, _ = _seconds(parsers["parse_command"], TYPICAL[0])
    print(f"first parse_command in this process (dateparser loads its data): {first * 1000:.0f} ms")

    timings: list[tuple[float, str, str, str]] = []
    for shape in SHAPES:
        text = hostile_text(shape, args.length)
        for name, parse in parsers.items():
            timings.append((*_seconds(parse, text), name, shape.name))
    timings.sort(reverse=True)
    print(f"(a) hostile input, {args.length} characters: slowest single calls")
    for seconds, raised, name, shape_name in timings[: args.top]:
        print(f"  {seconds * 1000:10.1f} ms  {name:15} {shape_name} {raised}")
    for _, raised, name, shape_name in timings:
        if raised:
            print(f"  {name} {raised} on {shape_name}")

    print(f"(b) parse_command on typical lines, {args.repeat} calls each")
    for line in TYPICAL:
        runs = [_seconds(parsers["parse_command"], line)[0] * 1000 for _ in range(args.repeat)]
        print(
            f"  median {statistics.median(runs):6.2f} ms  p99 {percentile(runs, 99):6.2f} ms  "
            f"max {max(runs):6.2f} ms  {line}"
        )


if __name__ == "__main__":
    main()
