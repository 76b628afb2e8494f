"""Acknowledge first: lazy listeners start only when no Slack request is waiting for its ack.

Slack gives an app 3 seconds to acknowledge. Under a burst, lazy work (parsing, database,
rendering) scheduled by early requests would otherwise run between the acks of later ones
and push them past that budget; holding back the *start* of lazy work while acks are
pending keeps acknowledgements quick, and the work itself follows right after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.async_runner import AsyncLazyListenerRunner
from slack_bolt.request.async_request import AsyncBoltRequest

__all__ = ["AckFirstLazyRunner", "AckGate"]


class AckGate:
    """Counts requests still waiting for their ack; `idle()` waits until there are none."""

    def __init__(self) -> None:
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self._pending += 1
        self._idle.clear()

    def leave(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    @property
    def pending(self) -> int:
        """Requests waiting for their ack right now."""
        return self._pending

    async def idle(self) -> None:
        await self._idle.wait()


class AckFirstLazyRunner(AsyncLazyListenerRunner):
    """Bolt's asyncio lazy runner, but each lazy listener waits for the gate to be idle."""

    def __init__(self, gate: AckGate, logger: logging.Logger) -> None:
        self.gate = gate
        self.logger = logger
        self._running: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    def start(self, function: Callable[..., Awaitable[None]], request: AsyncBoltRequest) -> None:
        task = asyncio.ensure_future(self._when_idle(function, request))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _when_idle(
        self, function: Callable[..., Awaitable[None]], request: AsyncBoltRequest
    ) -> None:
        await self.gate.idle()
        await to_runnable_function(internal_func=function, logger=self.logger, request=request)
