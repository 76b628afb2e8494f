"""What the in-process bot has finished: its scheduler's job runs and its lazy Slack work.

A test that checks that something did *not* happen (no second post, no meeting created) must
first know that the work that could have done it is over. Sleeping "long enough" is a guess
that a loaded machine breaks; these are the bot's own signals instead:

- `Inside.runs(job)` / `wait_runs(job, n)`: how many runs of an APScheduler job ("tick",
  "status-poll", "repair-cards") have finished. Two finished runs counted from a moment mean
  one whole run began after it (the jobs have `max_instances=1`).
- `Inside.settle()`: no lazy listener (the work behind an acknowledged Slack request) is
  waiting or running. Bolt registers a request's lazy listeners before its HTTP answer is
  returned, so once a request has been answered its work is covered.

`capture_world` records the `World` that `build_http_app`'s lifespan builds (the bot runs in a
uvicorn thread), so the probes read the running parts without changing the product.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED

import bot.server
from bot.server import World

__all__ = ["POLL_JOB", "REPAIR_JOB", "TICK_JOB", "Inside", "JobRuns", "capture_world"]

TICK_JOB = "tick"
POLL_JOB = "status-poll"
REPAIR_JOB = "repair-cards"


class JobRuns:
    """Started and finished runs per APScheduler job id (a failed run counts as finished),
    safe to read from any thread; an APScheduler listener (called in the bot's loop thread)."""

    MASK = EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._started: Counter[str] = Counter()
        self._changed = threading.Condition()

    def __call__(self, event: Any) -> None:
        with self._changed:
            if event.code == EVENT_JOB_SUBMITTED:
                self._started[str(event.job_id)] += 1
            else:
                self._counts[str(event.job_id)] += 1
            self._changed.notify_all()

    def running(self, job: str) -> int:
        """Runs of `job` started and not finished."""
        with self._changed:
            return self._started[job] - self._counts[job]

    def wait_idle(self, job: str, timeout: float) -> None:
        """Block until no run of `job` is in progress."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._started[job] > self._counts[job]:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"job {job!r} still running")
                self._changed.wait(left)

    def count(self, job: str) -> int:
        with self._changed:
            return self._counts[job]

    def wait(self, job: str, count: int, timeout: float) -> None:
        """Block until `job` has finished `count` runs in all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._counts[job] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"job {job!r} finished {self._counts[job]} run(s), expected {count}"
                    )
                self._changed.wait(left)


class Inside:
    """Probes into one running in-process bot (see the module docstring)."""

    def __init__(self, world: World, runs: JobRuns, loop: asyncio.AbstractEventLoop) -> None:
        self.world = world
        self._runs = runs
        self._loop = loop

    def _loop_turn(self, timeout: float) -> None:
        """Block until the bot's event loop has finished what it was doing (a callback queued
        now runs after it): e.g. APScheduler's submission of a run and its event."""
        turned = threading.Event()
        self._loop.call_soon_threadsafe(turned.set)
        if not turned.wait(timeout):
            raise AssertionError("the bot's event loop is stuck")

    def runs(self, job: str) -> int:
        """Runs of `job` finished so far."""
        return self._runs.count(job)

    def wait_runs(
        self, job: str, more: int = 2, *, since: int | None = None, timeout: float = 60
    ) -> None:
        """Block until `more` runs of `job` finished after `since` (a `runs(job)` taken
        earlier; default: now). With `more=2` a whole run began after that moment."""
        start = self.runs(job) if since is None else since
        self._runs.wait(job, start + more, timeout)

    @contextlib.contextmanager
    def paused(self, job: str, timeout: float = 60) -> Iterator[None]:
        """No run of `job` starts or is in progress inside the block (a run in progress is
        waited for first); the job resumes after it. For seeding work that one run must
        find whole."""
        scheduler = self.world.scheduler._scheduler
        scheduler.pause_job(job)
        try:
            self._loop_turn(timeout)  # a run submitted just before the pause is seen as started
            self._runs.wait_idle(job, timeout)
            yield
        finally:
            scheduler.resume_job(job)

    def lazy_pending(self) -> int:
        """Lazy listeners started and not finished (waiting for the ack gate or running)."""
        runner = self.world.bolt.listener_runner.lazy_listener_runner
        # AckFirstLazyRunner keeps its tasks in `_running` until they are done.
        running: set[Any] = getattr(runner, "_running")  # noqa: B009 -- no public reading
        return len(running)

    def settle(self, timeout: float = 30) -> None:
        """Block until every lazy listener of every request answered so far has finished."""
        deadline = time.monotonic() + timeout
        while self.lazy_pending():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.lazy_pending()} lazy listener(s) still running")
            time.sleep(0.02)


@contextlib.contextmanager
def capture_world() -> Iterator[Callable[[], Inside]]:
    """While active, the next bot lifespan records its World and counts its job runs; yields
    a function returning the `Inside` of the first bot started (after it has started)."""
    original = bot.server.world
    built: list[Inside] = []

    @contextlib.asynccontextmanager
    async def recording(settings: Any, **kwargs: Any) -> AsyncIterator[World]:
        async with original(settings, **kwargs) as world:
            runs = JobRuns()
            # The product's Scheduler keeps its APScheduler instance private; listening to
            # it is the only way to see a run that posted nothing.
            world.scheduler._scheduler.add_listener(runs, JobRuns.MASK)
            built.append(Inside(world, runs, asyncio.get_running_loop()))
            yield world

    def first() -> Inside:
        if not built:
            raise AssertionError("the bot's lifespan has not built its world")
        return built[0]

    bot.server.world = recording
    try:
        yield first
    finally:
        bot.server.world = original
