"""The one typed async client of the Huawei Cloud Meeting REST API.

Owns one pooled `httpx.AsyncClient` and the per-user token cache (single-flight appauth); every
call runs in the retry policy's tenacity loop (`bot.huawei.retry`). Returns pydantic models from
`bot.huawei.models`, raises `bot.huawei.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from bot.huawei.errors import (
    AuthError,
    MeetingServiceError,
    RateLimited,
    Unavailable,
    error_from_response,
)
from bot.huawei.models import (
    AccessToken,
    AppAuthBody,
    AppCredentials,
    Conference,
    ConferenceDetail,
    ConfType,
    MeetingSpec,
    OnlineAttendee,
    ScheduleBody,
)
from bot.huawei.retry import RetryPolicy
from bot.huawei.signature import authorization_header, expire_time, new_nonce, sign

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "PAGE_MAX",
    "AppCredentials",
    "HuaweiMeetingClient",
    "RetryPolicy",
]

_log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=200, max_keepalive_connections=200, keepalive_expiry=30.0
)
DEFAULT_RETRY: Final = RetryPolicy()
POOL_SHARDS: Final = 8
"""Connection pools the default transport spreads requests over (see `_ShardedTransport`)..."""
SHARD_MIN: Final = 8
"""... unless `limits` would leave fewer connections than this to each."""
PAGE_MAX: Final = 500
"""The vendor's largest page (`limit`) on every list endpoint."""
TOKEN_CACHE_SIZE: Final = 10_000
PAGE_CONCURRENCY: Final = 8
CLOCK_SKEW_SECONDS: Final = 60.0
"""How far the vendor's clock may differ from ours when matching an instant meeting's start."""

_APPAUTH: Final = "/v2/usg/acs/auth/appauth"
_CONFERENCES: Final = "/v1/mmc/management/conferences"
_CYCLE_CONFERENCES: Final = "/v1/mmc/management/cycleconferences"
_CONF_DETAIL: Final = "/v1/mmc/management/conferences/confDetail"
_ONLINE: Final = "/v1/mmc/management/conferences/online"
_ONLINE_ATTENDEES: Final = "/v1/mmc/management/conferences/online/conf-attendee"
_HISTORY: Final = "/v1/mmc/management/conferences/history"
_CONTROL_TOKEN: Final = "/v1/mmc/control/conferences/token"  # noqa: S105 -- a URL path
_CONTROL_STOP: Final = "/v1/mmc/control/conferences/stop"
_TOKEN_HEADER: Final = "X-Access-Token"  # noqa: S105 -- a header name
# Raised before a single byte reached the server: safe to resend even a create.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_T = TypeVar("_T")
_TOKEN: Final = TypeAdapter(AccessToken)
_CONFERENCE: Final = TypeAdapter(Conference)
_CONFERENCE_LIST: Final = TypeAdapter(list[Conference])
_DETAIL: Final = TypeAdapter(ConferenceDetail)
_ATTENDEE_LIST: Final = TypeAdapter(list[OnlineAttendee])

_CacheKey = tuple[str, str, str, int]
_Prepared = tuple[dict[str, Any], dict[str, str]]


@dataclass(frozen=True, slots=True)
class _CachedToken:
    token: AccessToken
    value: str = field(repr=False)
    refresh_at: float
    """Local clock time from which the token is renewed instead of used."""


class _TokenCache:
    """Tokens per (app, corp, user, key), least recently used evicted beyond `max_size`."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._entries: OrderedDict[_CacheKey, _CachedToken] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def fresh(self, key: _CacheKey, now: float) -> _CachedToken | None:
        entry = self._entries.get(key)
        if entry is None or entry.refresh_at <= now:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: _CacheKey, entry: _CachedToken) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_size:
            self._entries.popitem(last=False)

    def discard(self, key: _CacheKey, value: str) -> None:
        """Forget the token `value` -- unless another caller already replaced it."""
        entry = self._entries.get(key)
        if entry is not None and entry.value == value:
            del self._entries[key]


class _ShardedTransport(httpx.AsyncBaseTransport):
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


def _cache_key(app: AppCredentials, user_id: str | None) -> _CacheKey:
    return (app.app_id, app.corp_id or "", user_id or "", app.key_id)


def _parse(adapter: TypeAdapter[_T], data: object) -> _T:
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


def _items(page: object) -> list[Any]:
    """The items of a list answer: `{"count", "data": [...]}` or a bare array."""
    if isinstance(page, list):
        return page
    if isinstance(page, dict) and isinstance(page.get("data"), list):
        return list(page["data"])
    raise MeetingServiceError("the meeting service sent a list answer we could not read")


def _epoch_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(value.timestamp() * 1000)


def _is_same_booking(
    conf: Conference,
    spec: MeetingSpec,
    *,
    window: tuple[float, float],
    scheduler_uuid: str | None,
) -> bool:
    """Whether `conf` is the meeting a create request for `spec` made within `window`
    (epoch seconds, first attempt .. now) would have produced."""
    if conf.subject != spec.subject or conf.start is None:
        return False
    if scheduler_uuid and conf.user_uuid and conf.user_uuid != scheduler_uuid:
        return False
    if conf.is_recurring != (spec.recurrence is not None):
        return False
    if spec.recurrence is not None:
        expected = ConfType.CYCLE
    else:
        expected = ConfType.FUTURE if spec.start else ConfType.IMMEDIATELY
        if conf.length_minutes is not None and conf.length_minutes != spec.length_minutes:
            return False
    if conf.conf_type is not None and conf.conf_type is not expected:
        return False
    if spec.start is not None:
        wanted = spec.start.astimezone(UTC).replace(second=0, microsecond=0)
        if conf.start == wanted or any(s.start == wanted for s in conf.sub_confs):
            return True
        # A series may begin on the first date its rule allows, not on `spec.start` itself.
        rec, got = spec.recurrence, conf.recurrence
        return (
            rec is not None
            and got is not None
            and (got.cycle, got.interval, got.start_date)
            == (rec.cycle, rec.interval, rec.start_date)
            and conf.start.timetz() == wanted.timetz()
        )
    # The vendor truncates an instant meeting's start to the minute.
    low, high = window
    return low - 60 - CLOCK_SKEW_SECONDS <= conf.start.timestamp() <= high + CLOCK_SKEW_SECONDS


class HuaweiMeetingClient:
    """Async client of the Huawei Cloud Meeting REST API, acting as any app's users.

    Every call takes the app's credentials and the third-party `user_id` (None or "" = the
    enterprise admin/owner) and runs with that user's cached access token. Use it as
    `async with HuaweiMeetingClient(url) as client:` or call `aclose()`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str | ssl.SSLContext = True,
        clock: Callable[[], float] = time.time,
        page_size: int = PAGE_MAX,
        token_cache_size: int = TOKEN_CACHE_SIZE,
    ) -> None:
        if not 1 <= page_size <= PAGE_MAX:
            raise ValueError(f"page_size must be 1-{PAGE_MAX}")
        if isinstance(verify, str):
            # httpx 0.28 deprecates a CA path here; an SSLContext says the same thing.
            verify = ssl.create_default_context(cafile=verify)
        elif isinstance(verify, bool):
            verify = httpx.create_ssl_context(verify=verify)  # one context for every pool
        if transport is None:
            transport = _ShardedTransport(limits, verify)
        self._base_url = base_url
        self._retry = retry
        self._clock = clock
        self._page_size = page_size
        self._tokens = _TokenCache(token_cache_size)
        self._inflight: dict[_CacheKey, asyncio.Task[_CachedToken]] = {}
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=limits,
            transport=transport,
            verify=verify,  # for proxy transports taken from the environment
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return (
            f"HuaweiMeetingClient(base_url={self._base_url!r}, cached_tokens={len(self._tokens)})"
        )

    async def __aenter__(self) -> HuaweiMeetingClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel pending authentications and close the connection pool."""
        for task in list(self._inflight.values()):
            task.cancel()
        await self._http.aclose()

    # --- authentication -----------------------------------------------------------------

    async def authenticate(self, app: AppCredentials, user_id: str | None) -> AccessToken:
        """The access token of `user_id` (None/"" = enterprise admin), from cache or appauth.

        Concurrent callers for one user share one appauth call; a failure reaches all of them
        and is not cached. Raises AuthError when the vendor refuses the app credentials.
        """
        return (await self._access(app, user_id, _cache_key(app, user_id))).token

    async def _access(
        self, app: AppCredentials, user_id: str | None, key: _CacheKey
    ) -> _CachedToken:
        entry = self._tokens.fresh(key, self._clock())
        if entry is not None:
            return entry
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._appauth(app, user_id, key))
            self._inflight[key] = task
            task.add_done_callback(partial(self._appauth_done, key))
        # shield: one impatient (cancelled) caller must not cancel the others' appauth.
        return await asyncio.shield(task)

    def _appauth_done(self, key: _CacheKey, task: asyncio.Task[_CachedToken]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: waiters re-raise it; nobody waiting is fine too

    async def _appauth(
        self, app: AppCredentials, user_id: str | None, key: _CacheKey
    ) -> _CachedToken:
        asked_at = self._clock()
        data = await self._send(
            "POST", _APPAUTH, prepare=partial(self._signed_appauth, app, user_id), during_auth=True
        )
        token = _parse(_TOKEN, data)
        entry = _CachedToken(
            token, token.access_token.get_secret_value(), asked_at + token.usable_for()
        )
        self._tokens.put(key, entry)
        return entry

    def _signed_appauth(self, app: AppCredentials, user_id: str | None) -> _Prepared:
        # Signed afresh for every attempt: the vendor rejects a nonce it has seen.
        nonce, expires, user = new_nonce(), expire_time(self._clock()), user_id or ""
        signature = sign(
            app.sign_mode(user_id),
            app_id=app.app_id,
            app_key=app.app_key.get_secret_value(),
            expire_time=expires,
            nonce=nonce,
            user_id=user,
            corp_id=app.corp_id or "",
        )
        body = AppAuthBody(
            app_id=app.app_id, expire_time=expires, nonce=nonce, user_id=user, corp_id=app.corp_id
        )
        return body.wire(), {"Authorization": authorization_header(signature, app_id=app.app_id)}

    # --- transport ----------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        prepare: Callable[[], _Prepared] | None = None,
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

    async def _call(
        self,
        app: AppCredentials,
        user_id: str | None,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """A business call as `user_id`; a rejected token is renewed once and the call resent."""
        key = _cache_key(app, user_id)
        for renewed in (False, True):
            value = (await self._access(app, user_id, key)).value
            try:
                return await self._send(
                    method,
                    path,
                    params=params,
                    json=json,
                    headers={**(headers or {}), _TOKEN_HEADER: value},
                    idempotent=idempotent,
                )
            except AuthError as exc:
                # A 401 means the call was refused before any effect: safe to resend once.
                if exc.status_code != 401 or renewed:
                    raise
                _log.info("token of app %s refused (%s); renewing it", app.app_id, exc.error_code)
                self._tokens.discard(key, value)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _paged(
        self,
        app: AppCredentials,
        user_id: str | None,
        path: str,
        params: Mapping[str, str | int | bool],
    ) -> list[Any]:
        """Every item of a paged list: page one, then the remaining pages concurrently."""
        first = await self._call(
            app, user_id, "GET", path, params={**params, "offset": 0, "limit": self._page_size}
        )
        items = _items(first)
        total = int(first.get("count") or 0) if isinstance(first, dict) else 0
        if not items or len(items) >= total:
            return items
        # If the vendor capped the page below our limit, step by what it actually returned.
        step = len(items)
        gate = asyncio.Semaphore(PAGE_CONCURRENCY)

        async def page(offset: int) -> list[Any]:
            async with gate:
                answer = await self._call(
                    app, user_id, "GET", path, params={**params, "offset": offset, "limit": step}
                )
                return _items(answer)

        for rest in await asyncio.gather(*(page(o) for o in range(step, total, step))):
            items.extend(rest)
        return items

    # --- meetings -----------------------------------------------------------------------

    async def create_meeting(
        self, app: AppCredentials, user_id: str | None, spec: MeetingSpec
    ) -> Conference:
        """Book a meeting (instant when `spec.start` is None; recurring with `spec.recurrence`,
        whose answer lists the occurrences in `sub_confs`).

        Never resent blindly. A connect error (nothing sent) is retried. After an ambiguous
        failure (timeout after sending, dropped connection, 5xx, 429) the client first lists
        the user's meetings and returns the one this request made -- same subject, start
        (for an instant meeting: within the attempt window), length, type and recurrence,
        scheduled by this user -- and only if there is none, sends the request again.
        Residual risk: if the same user books two identical meetings (same subject, start and
        length; for instant ones, within the same minute or two) and the second request fails
        ambiguously without having been processed, the first meeting is returned for it.
        """
        path = _CYCLE_CONFERENCES if spec.recurrence else _CONFERENCES
        body = ScheduleBody.from_spec(spec, app_id=app.app_id).wire()
        first_try = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                data = await self._call(app, user_id, "POST", path, json=body, idempotent=False)
            except (Unavailable, RateLimited) as exc:
                if isinstance(exc, Unavailable) and not exc.maybe_processed:
                    raise  # connect errors were already retried; nothing was created
                await self._retry.pause(attempt, exc.retry_after)
                found = await self._find_booking(app, user_id, spec, since=first_try)
                if found is not None:
                    _log.info(
                        "create for app %s was ambiguous; found %s", app.app_id, found.conference_id
                    )
                    return found
                if not self._retry.can_retry(attempt):
                    raise
                continue
            return self._first_conference(data)

    async def _find_booking(
        self, app: AppCredentials, user_id: str | None, spec: MeetingSpec, *, since: float
    ) -> Conference | None:
        me = (await self._access(app, user_id, _cache_key(app, user_id))).token.user.uuid
        candidates = await self.list_meetings(app, user_id, search=spec.subject[:128] or None)
        window = (since, self._clock())
        return next(
            (c for c in candidates if _is_same_booking(c, spec, window=window, scheduler_uuid=me)),
            None,
        )

    @staticmethod
    def _first_conference(data: object) -> Conference:
        items = data if isinstance(data, list) else [data]
        if not items or items[0] is None:
            raise MeetingServiceError("the meeting service answered without a meeting")
        return _parse(_CONFERENCE, items[0])

    async def get_meeting(
        self, app: AppCredentials, user_id: str | None, conference_id: str
    ) -> ConferenceDetail:
        """A not-yet-ended meeting with its invitees (first 500). NotFound once it is gone."""
        data = await self._call(
            app,
            user_id,
            "GET",
            _CONF_DETAIL,
            params={"conferenceID": conference_id, "offset": 0, "limit": PAGE_MAX},
        )
        return _parse(_DETAIL, data)

    async def edit_meeting(
        self, app: AppCredentials, user_id: str | None, conference_id: str, spec: MeetingSpec
    ) -> Conference:
        """Replace a booked (not started) meeting's settings with `spec` (the full new state)."""
        path = _CYCLE_CONFERENCES if spec.recurrence else _CONFERENCES
        data = await self._call(
            app,
            user_id,
            "PUT",
            path,
            params={"conferenceID": conference_id},
            json=ScheduleBody.from_spec(spec, app_id=app.app_id).wire(),
        )
        if data:
            return self._first_conference(data)
        return (await self.get_meeting(app, user_id, conference_id)).conference

    async def cancel_meeting(
        self,
        app: AppCredentials,
        user_id: str | None,
        conference_id: str,
        *,
        end_if_running: bool = False,
        recurring: bool = False,
    ) -> None:
        """Cancel a booking (a whole series with `recurring=True`). A running meeting is only
        cancelled with `end_if_running=True`, which also ends it."""
        await self._call(
            app,
            user_id,
            "DELETE",
            _CYCLE_CONFERENCES if recurring else _CONFERENCES,
            params={"conferenceID": conference_id, "type": 1 if end_if_running else 0},
        )

    async def list_meetings(
        self, app: AppCredentials, user_id: str | None, *, search: str | None = None
    ) -> list[Conference]:
        """Every upcoming or ongoing meeting the user booked or was invited to (all pages).

        `search` matches subject, scheduler or meeting ID (vendor side, 1-128 characters).
        """
        params: dict[str, str | int | bool] = {"searchKey": search} if search else {}
        return _parse(_CONFERENCE_LIST, await self._paged(app, user_id, _CONFERENCES, params))

    async def list_online_meetings(
        self, app: AppCredentials, user_id: str | None = None, *, query_all: bool = True
    ) -> list[Conference]:
        """Every meeting in progress, with `online_attendee_amount` (all pages).

        With the admin token (user_id None) and `query_all`, the whole enterprise's.
        """
        items = await self._paged(app, user_id, _ONLINE, {"queryAll": query_all})
        return _parse(_CONFERENCE_LIST, items)

    async def online_attendees(
        self, app: AppCredentials, user_id: str | None, conference_id: str
    ) -> list[OnlineAttendee]:
        """Who is in the running meeting now (all pages)."""
        items = await self._paged(app, user_id, _ONLINE_ATTENDEES, {"conf_id": conference_id})
        return _parse(_ATTENDEE_LIST, items)

    async def list_history(
        self,
        app: AppCredentials,
        user_id: str | None,
        *,
        since: datetime,
        until: datetime,
        query_all: bool = False,
        search: str | None = None,
    ) -> list[Conference]:
        """Ended sessions that started between `since` and `until` (aware datetimes).

        One meeting started and ended twice has two records (different `conf_uuid`).
        """
        params: dict[str, str | int | bool] = {
            "startDate": _epoch_ms(since),
            "endDate": _epoch_ms(until),
            "queryAll": query_all,
        }
        if search:
            params["searchKey"] = search
        return _parse(_CONFERENCE_LIST, await self._paged(app, user_id, _HISTORY, params))

    async def end_meeting(
        self, app: AppCredentials, user_id: str | None, conference_id: str, *, host_password: str
    ) -> None:
        """End a running meeting, with a control token obtained by the host password.

        Raises MeetingNotRunning when it has not started or has already ended.
        """
        answer = await self._call(
            app,
            user_id,
            "GET",
            _CONTROL_TOKEN,
            params={"conferenceID": conference_id},
            headers={"X-Password": host_password, "X-Login-Type": "1"},
        )
        control = answer.get("data") if isinstance(answer, dict) else None
        token = control.get("token") if isinstance(control, dict) else None
        if not isinstance(token, str) or not token:
            raise MeetingServiceError("the meeting service answered without a control token")
        await self._call(
            app,
            user_id,
            "PUT",
            _CONTROL_STOP,
            params={"conferenceID": conference_id},
            headers={"X-Conference-Authorization": token},
        )
