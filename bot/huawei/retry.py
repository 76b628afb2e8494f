"""The retry policy of the meeting-service client, on tenacity: how often, how long, and what.

`RetryPolicy.retrying(idempotent=...)` is the tenacity loop a vendor call runs in (the client's
`_send`): at most `attempts` tries, waiting between them with full-jitter exponential backoff or
the server's `Retry-After`, and retrying only what is safe to send again -- 5xx, 429, timeouts and
dropped connections for an idempotent call, and for any call a connect error (nothing reached the
server). Creating a meeting is never resent blindly: `HuaweiMeetingClient.create_meeting` waits
`pause(...)` after an ambiguous failure and looks for the meeting before it tries again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot.huawei.errors import RateLimited, Unavailable

__all__ = ["RetryPolicy"]


def _may_resend(failure: BaseException, *, idempotent: bool) -> bool:
    """Whether a call that failed with `failure` may be sent again.

    A connect error (`maybe_processed` False) never reached the server, so any call may be
    resent; a 5xx, 429, timeout or dropped connection only an idempotent one.
    """
    if isinstance(failure, Unavailable) and not failure.maybe_processed:
        return True
    return idempotent and isinstance(failure, Unavailable | RateLimited)


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
    # Injectable so a test can skip or record the waits.
    sleep: Callable[[float], Awaitable[None]] = field(
        default=asyncio.sleep, repr=False, compare=False
    )

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

    async def pause(self, attempt: int, retry_after: float | None = None) -> None:
        """Wait `delay(attempt, retry_after)` seconds."""
        await self.sleep(self.delay(attempt, retry_after))

    def retrying(self, *, idempotent: bool) -> AsyncRetrying:
        """A tenacity loop (`async for attempt in ...: with attempt: ...`) for one call.

        Retries what `_may_resend` allows; the last failure is raised as it is.
        """
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception(partial(_may_resend, idempotent=idempotent)),
            sleep=self.sleep,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        return self.delay(state.attempt_number, getattr(failure, "retry_after", None))

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(attempts=1)
