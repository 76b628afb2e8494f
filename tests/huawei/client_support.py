"""Shared pieces of the HuaweiMeetingClient tests: the test app, a manual clock, a client factory."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.models import AppCredentials, MeetingSpec
from bot.huawei.retry import RetryPolicy
from bot.sandbox import SandboxApp
from tests.fakes.sandbox import RunningSandbox

APP_KEY: Final = "app-key-0123456789abcdef-secret"
SANDBOX_APP: Final = SandboxApp("meetbot-app", APP_KEY)
APP: Final = AppCredentials(app_id="meetbot-app", app_key=APP_KEY)
FAST_RETRY: Final = RetryPolicy(attempts=4, base=0.01, cap=0.05)


class ManualClock:
    """A clock the test moves by hand (shared by the client and the sandbox)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.asynccontextmanager
async def meeting_client(sandbox: RunningSandbox, **kw: Any) -> AsyncIterator[HuaweiMeetingClient]:
    """A client of `sandbox` with fast retries unless told otherwise."""
    kw.setdefault("retry", FAST_RETRY)
    async with HuaweiMeetingClient(sandbox.base_url, **kw) as client:
        yield client


def in_hours(hours: float, *, now: float | None = None) -> datetime:
    """An aware UTC start `hours` from now, on a whole minute (what the vendor stores)."""
    base = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return (base + timedelta(hours=hours)).replace(second=0, microsecond=0)


def scheduled(
    subject: str = "Standup", hours: float = 2, *, now: float | None = None, **kw: Any
) -> MeetingSpec:
    """A one-off meeting `hours` from now."""
    return MeetingSpec(subject=subject, start=in_hours(hours, now=now), **kw)


def requests_to(sandbox: RunningSandbox, route: str) -> int:
    """How many requests the sandbox received on `route` ("METHOD /path")."""
    requests: dict[str, int] = sandbox.stats()["requests"]
    return requests.get(route, 0)
