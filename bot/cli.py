"""The `meetbot` command line: the only place that builds the world."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `meetbot` console script."""
    raise SystemExit("meetbot: no command yet")
