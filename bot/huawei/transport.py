"""How one call reaches the Huawei Cloud Meeting API and what comes back.

The connection pools (`ShardedTransport`), the retry policy's loop around each try (`Sender`),
and the answer: parsed JSON, or the typed error of `bot.huawei.errors` (transport failures as
`Unavailable`, `raise ... from exc`). `HuaweiMeetingClient` owns the `httpx.AsyncClient` that
`Sender` sends over; `parse` and `page_items` read an answer into `bot.huawei.answers`.
"""

from __future__ import annotations

import logging
import math
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from bot.huawei.errors import MeetingServiceError, Unavailable, error_from_response
from bot.huawei.retry import RetryPolicy

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "POOL_SHARDS",
    "SHARD_MIN",
    "Prepared",
    "Sender",
    "ShardedTransport",
    "page_items",
    "parse",
]

_log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=200, max_keepalive_connections=200, keepalive_expiry=30.0
)
POOL_SHARDS: Final = 8
"""Connection pools the default transport spreads requests over (see `ShardedTransport`)..."""
SHARD_MIN: Final = 8
"""... unless `limits` would leave fewer connections than this to each."""
# Raised before a single byte reached the server: safe to resend even a create.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_T = TypeVar("_T")

Prepared = tuple[dict[str, Any], dict[str, str]]
"""A request's JSON body and headers, built afresh for each attempt."""


class ShardedTransport(httpx.AsyncBaseTransport):
    """Requests spread over several small connection pools, each to the least busy one.

    httpcore 1.0 re-scans every pooled connection -- polling each idle socket, and counting the
    idle ones once per idle connection -- on every request and every response (encode/httpcore
    #928), so a pool's cost per request grows with its size, and under load it feeds on itself:
    a busier loop leaves more connections idle at each scan. Pools of a few connections each
    keep the scan short; together they keep `limits`.
    """

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext) -> None:
        most, idle = limits.max_connections, limits.max_keepalive_connections
        shards = POOL_SHARDS if most is None else max(1, min(POOL_SHARDS, most // SHARD_MIN))
        share = httpx.Limits(
            max_connections=None if most is None else most // shards,
            max_keepalive_connections=None if idle is None else math.ceil(idle / shards),
            keepalive_expiry=limits.keepalive_expiry,
        )
        pools = [httpx.AsyncHTTPTransport(verify=verify, limits=share) for _ in range(shards)]
        self._waiting = dict.fromkeys(pools, 0)
        """Requests each pool is handling until their answer's headers are in."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool = min(self._waiting, key=self._waiting.__getitem__)
        self._waiting[pool] += 1
        try:
            return await pool.handle_async_request(request)
        finally:
            self._waiting[pool] -= 1

    async def aclose(self) -> None:
        for pool in self._waiting:
            await pool.aclose()


def parse(adapter: TypeAdapter[_T], data: object) -> _T:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        # The input may hold a token: log only where the shape broke, never the values.
        _log.warning(
            "unreadable %s answer: %s",
            adapter,
            [(e["loc"], e["type"]) for e in exc.errors(include_input=False, include_url=False)],
        )
        raise MeetingServiceError("the meeting service sent an answer we could not read") from None


def page_items(page: object) -> list[Any]:
    """The items of a list answer: `{"count", "data": [...]}` or a bare array."""
    if isinstance(page, list):
        return page
    if isinstance(page, dict) and isinstance(page.get("data"), list):
        return list(page["data"])
    raise MeetingServiceError("the meeting service sent a list answer we could not read")


class Sender:
    """Vendor calls over the client's `httpx.AsyncClient`, each in the retry policy's loop."""

    def __init__(
        self, http: httpx.AsyncClient, *, retry: RetryPolicy, clock: Callable[[], float]
    ) -> None:
        self._http = http
        self._retry = retry
        self._clock = clock

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        prepare: Callable[[], Prepared] | None = None,
        idempotent: bool = True,
        during_auth: bool = False,
    ) -> Any:
        """One vendor call with the retry policy; the parsed JSON answer or a typed error.

        Non-idempotent calls are resent only after a connect error (nothing was sent).
        """
        async for attempt in self._retry.retrying(idempotent=idempotent):
            with attempt:
                if prepare is not None:
                    json, headers = prepare()
                return await self._request(
                    method, path, params=params, json=json, headers=headers, during_auth=during_auth
                )
        raise AssertionError("unreachable")  # pragma: no cover -- the last failure is raised

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None,
        json: object,
        headers: Mapping[str, str] | None,
        during_auth: bool,
    ) -> Any:
        """One try: the parsed JSON answer, or the typed error (`Unavailable` when not answered)."""
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method, path, params=params, json=json, headers=headers
            )
        except httpx.RequestError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            _log.debug("%s %s failed after %.1f ms: %s", method, path, elapsed, type(exc).__name__)
            raise Unavailable(
                f"{method} {path} failed: {type(exc).__name__}",
                maybe_processed=not isinstance(exc, _NOT_SENT),
            ) from exc
        elapsed = (time.perf_counter() - started) * 1000
        _log.debug("%s %s -> %d in %.1f ms", method, path, response.status_code, elapsed)
        if response.status_code < 400:
            try:
                return response.json() if response.content else None
            except ValueError:
                raise MeetingServiceError(
                    f"{method} {path}: the answer is not JSON", status_code=response.status_code
                ) from None
        raise error_from_response(
            response.status_code,
            response.content,
            response.headers,
            now=self._clock(),
            during_auth=during_auth,
        )
