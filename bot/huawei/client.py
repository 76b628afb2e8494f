"""The one typed async client of the Huawei Cloud Meeting REST API: the meeting endpoints.

Owns one pooled `httpx.AsyncClient` (calls go over it through `bot.huawei.transport`) and the
per-user token cache (single-flight appauth, `bot.huawei.auth`); every call runs in the retry
policy's tenacity loop (`bot.huawei.retry`). Returns pydantic models from `bot.huawei.answers`,
raises `bot.huawei.errors`; the endpoints' paths are `bot.huawei.paths`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from pydantic import TypeAdapter

from bot.huawei import paths
from bot.huawei.answers import (
    AccessToken,
    Conference,
    ConferenceDetail,
    ConfType,
    OnlineAttendee,
    read_conference_items,
)
from bot.huawei.auth import TOKEN_CACHE_SIZE, Authenticator, cache_key
from bot.huawei.errors import AuthError, MeetingServiceError, RateLimited, Unavailable
from bot.huawei.models import AppCredentials, MeetingSpec, ScheduleBody
from bot.huawei.retry import RetryPolicy
from bot.huawei.transport import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    Sender,
    ShardedTransport,
    page_items,
    parse,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "PAGE_MAX",
    "AppCredentials",
    "HuaweiMeetingClient",
    "RetryPolicy",
]

_log = logging.getLogger(__name__)

DEFAULT_RETRY: Final = RetryPolicy()
PAGE_MAX: Final = 500
"""The vendor's largest page (`limit`) on every list endpoint."""
PAGE_CONCURRENCY: Final = 8
CLOCK_SKEW_SECONDS: Final = 60.0
"""How far the vendor's clock may differ from ours when matching an instant meeting's start."""

_TOKEN_HEADER: Final = "X-Access-Token"  # noqa: S105 -- a header name

_CONFERENCE: Final = TypeAdapter(Conference)
_DETAIL: Final = TypeAdapter(ConferenceDetail)
_ATTENDEE_LIST: Final = TypeAdapter(list[OnlineAttendee])


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
    if conf.conf_type not in (None, ConfType.UNKNOWN, expected):
        return False  # an undocumented type is no evidence either way
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

    A single meeting's answer (create, edit, show) that does not validate raises
    MeetingServiceError; the list calls read each item on its own (`read_conference_items`),
    so one odd meeting never hides the others.
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
            transport = ShardedTransport(limits, verify)
        self._base_url = base_url
        self._retry = retry
        self._clock = clock
        self._page_size = page_size
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=limits,
            transport=transport,
            verify=verify,  # for proxy transports taken from the environment
            headers={"Accept": "application/json"},
        )
        self._sender = Sender(self._http, retry=retry, clock=clock)
        self._auth = Authenticator(self._sender, clock=clock, max_size=token_cache_size)

    def __repr__(self) -> str:
        cached = len(self._auth.tokens)
        return f"HuaweiMeetingClient(base_url={self._base_url!r}, cached_tokens={cached})"

    async def __aenter__(self) -> HuaweiMeetingClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel pending authentications and close the connection pool."""
        self._auth.cancel()
        await self._http.aclose()

    # --- authentication -----------------------------------------------------------------

    async def authenticate(self, app: AppCredentials, user_id: str | None) -> AccessToken:
        """The access token of `user_id` (None/"" = enterprise admin), from cache or appauth.

        Concurrent callers for one user share one appauth call; a failure reaches all of them
        and is not cached. Raises AuthError when the vendor refuses the app credentials.
        """
        return (await self._auth.access(app, user_id, cache_key(app, user_id))).token

    # --- calls as a user ----------------------------------------------------------------

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
        key = cache_key(app, user_id)
        for renewed in (False, True):
            value = (await self._auth.access(app, user_id, key)).value
            try:
                return await self._sender.send(
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
                self._auth.tokens.discard(key, value)
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
        items = page_items(first)
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
                return page_items(answer)

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
        path = paths.CYCLE_CONFERENCES if spec.recurrence else paths.CONFERENCES
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
        me = (await self._auth.access(app, user_id, cache_key(app, user_id))).token.user.uuid
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
        return parse(_CONFERENCE, items[0])

    async def get_meeting(
        self, app: AppCredentials, user_id: str | None, conference_id: str
    ) -> ConferenceDetail:
        """A not-yet-ended meeting with its invitees (first 500). NotFound once it is gone."""
        data = await self._call(
            app,
            user_id,
            "GET",
            paths.CONF_DETAIL,
            params={"conferenceID": conference_id, "offset": 0, "limit": PAGE_MAX},
        )
        return parse(_DETAIL, data)

    async def edit_meeting(
        self, app: AppCredentials, user_id: str | None, conference_id: str, spec: MeetingSpec
    ) -> Conference:
        """Replace a booked (not started) meeting's settings with `spec` (the full new state)."""
        path = paths.CYCLE_CONFERENCES if spec.recurrence else paths.CONFERENCES
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
            paths.CYCLE_CONFERENCES if recurring else paths.CONFERENCES,
            params={"conferenceID": conference_id, "type": 1 if end_if_running else 0},
        )

    async def list_meetings(
        self, app: AppCredentials, user_id: str | None, *, search: str | None = None
    ) -> list[Conference]:
        """Every upcoming or ongoing meeting the user booked or was invited to (all pages).

        `search` matches subject, scheduler or meeting ID (vendor side, 1-128 characters).
        """
        params: dict[str, str | int | bool] = {"searchKey": search} if search else {}
        items = await self._paged(app, user_id, paths.CONFERENCES, params)
        return read_conference_items(items, source="upcoming")

    async def list_online_meetings(
        self, app: AppCredentials, user_id: str | None = None, *, query_all: bool = True
    ) -> list[Conference]:
        """Every meeting in progress, with `online_attendee_amount` (all pages).

        With the admin token (user_id None) and `query_all`, the whole enterprise's.
        """
        items = await self._paged(app, user_id, paths.ONLINE, {"queryAll": query_all})
        return read_conference_items(items, source="online")

    async def online_attendees(
        self, app: AppCredentials, user_id: str | None, conference_id: str
    ) -> list[OnlineAttendee]:
        """Who is in the running meeting now (all pages)."""
        items = await self._paged(app, user_id, paths.ONLINE_ATTENDEES, {"conf_id": conference_id})
        return parse(_ATTENDEE_LIST, items)

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
        items = await self._paged(app, user_id, paths.HISTORY, params)
        return read_conference_items(items, source="history")

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
            paths.CONTROL_TOKEN,
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
            paths.CONTROL_STOP,
            params={"conferenceID": conference_id},
            headers={"X-Conference-Authorization": token},
        )
