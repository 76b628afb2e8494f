"""Process metrics for `GET /metrics`, in Prometheus' text exposition format (0.0.4).

A handful of counters and gauges kept in memory per process; scrape every replica.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Final

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

HELP: Final = {
    "meetbot_slack_requests_total": "Requests from Slack by HTTP status answered.",
    "meetbot_slack_ack_seconds": "Time to answer Slack's requests (the acknowledgement).",
    "meetbot_deliveries_posted_total": "Reminders and start/end notices posted to Slack.",
    "meetbot_status_changes_total": "Live-status changes applied, by kind.",
    "meetbot_slack_requests_awaiting_ack": "Slack requests not yet acknowledged.",
}

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: Labels) -> str:
    if not labels:
        return name
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
    return f"{name}{{{inner}}}"


class Metrics:
    """Counters (`inc`), summaries (`observe`: sum and count) and gauges read at scrape time."""

    def __init__(self) -> None:
        self._counters: defaultdict[tuple[str, Labels], float] = defaultdict(float)
        self._gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        self._counters[(name, tuple(sorted(labels.items())))] += amount

    def observe(self, name: str, value: float) -> None:
        self.inc(f"{name}_sum", value)
        self.inc(f"{name}_count")

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        self._gauges[name] = read

    def render(self) -> str:
        """The exposition text: HELP and TYPE once per metric family, then its series."""
        families: dict[str, list[str]] = defaultdict(list)
        kinds: dict[str, str] = {}
        for (name, labels), value in sorted(self._counters.items()):
            family = name.removesuffix("_sum").removesuffix("_count")
            kinds[family] = "summary" if family != name else "counter"
            families[family].append(f"{_series(name, labels)} {value:g}")
        for name, read in sorted(self._gauges.items()):
            kinds[name] = "gauge"
            families[name].append(f"{name} {read():g}")
        lines: list[str] = []
        for family in sorted(families):
            lines.append(f"# HELP {family} {HELP.get(family, family)}")
            lines.append(f"# TYPE {family} {kinds[family]}")
            lines.extend(families[family])
        return "\n".join(lines) + "\n"
