"""The retry policy of the meeting-service client: how many attempts and how long to wait.

Which failures are retried lives in the client (it knows what was sent); this object only
answers "may I try again?" and "how long do I wait?", like slack_sdk's `http_retry` handlers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the server's `Retry-After` (capped).

    `attempts` counts the first try: 4 means up to three retries. The wait before retry n
    (n = 1, 2, ...) is uniform in [0, min(cap, base * 2**(n-1))], or the server's Retry-After
    when it gave one, never more than `retry_after_cap`.
    """

    attempts: int = 4
    base: float = 0.25
    cap: float = 4.0
    retry_after_cap: float = 10.0
    # Jitter is not a security matter; injectable so a test can pin the delays.
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.retry_after_cap < 0:
            raise ValueError("delays must not be negative")

    def can_retry(self, attempt: int) -> bool:
        """Whether another try may follow try number `attempt` (1-based)."""
        return attempt < self.attempts

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return self.jitter() * min(self.cap, self.base * 2.0 ** (attempt - 1))

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(attempts=1)
