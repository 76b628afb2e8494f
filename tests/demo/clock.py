"""A clock the tests move by hand (the fake Slack and the emulator take any `() -> float`)."""

from __future__ import annotations


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now
