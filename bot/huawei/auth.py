"""How the client gets and keeps each user's access token (appauth).

Tokens are cached per (app, corp, user, key), renewed before they expire, and the least recently
used evicted beyond the cache's size. Concurrent callers for one user share one appauth call
(single flight); the request is signed afresh for every attempt (`bot.huawei.signature`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Final

from pydantic import TypeAdapter

from bot.huawei.answers import AccessToken
from bot.huawei.models import AppAuthBody, AppCredentials
from bot.huawei.paths import APPAUTH
from bot.huawei.signature import authorization_header, expire_time, new_nonce, sign
from bot.huawei.transport import Prepared, Sender, parse

__all__ = [
    "TOKEN_CACHE_SIZE",
    "Authenticator",
    "CacheKey",
    "CachedToken",
    "TokenCache",
    "cache_key",
]

TOKEN_CACHE_SIZE: Final = 10_000

_TOKEN: Final = TypeAdapter(AccessToken)

CacheKey = tuple[str, str, str, int]


@dataclass(frozen=True, slots=True)
class CachedToken:
    token: AccessToken
    value: str = field(repr=False)
    refresh_at: float
    """Local clock time from which the token is renewed instead of used."""


class TokenCache:
    """Tokens per (app, corp, user, key), least recently used evicted beyond `max_size`."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._entries: OrderedDict[CacheKey, CachedToken] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def fresh(self, key: CacheKey, now: float) -> CachedToken | None:
        entry = self._entries.get(key)
        if entry is None or entry.refresh_at <= now:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, entry: CachedToken) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_size:
            self._entries.popitem(last=False)

    def discard(self, key: CacheKey, value: str) -> None:
        """Forget the token `value` -- unless another caller already replaced it."""
        entry = self._entries.get(key)
        if entry is not None and entry.value == value:
            del self._entries[key]


def cache_key(app: AppCredentials, user_id: str | None) -> CacheKey:
    return (app.app_id, app.corp_id or "", user_id or "", app.key_id)


class Authenticator:
    """Each user's access token, from the cache or from one shared appauth call via `sender`."""

    def __init__(
        self, sender: Sender, *, clock: Callable[[], float], max_size: int = TOKEN_CACHE_SIZE
    ) -> None:
        self._sender = sender
        self._clock = clock
        self.tokens = TokenCache(max_size)
        self._inflight: dict[CacheKey, asyncio.Task[CachedToken]] = {}

    def cancel(self) -> None:
        """Cancel pending authentications."""
        for task in list(self._inflight.values()):
            task.cancel()

    async def access(self, app: AppCredentials, user_id: str | None, key: CacheKey) -> CachedToken:
        entry = self.tokens.fresh(key, self._clock())
        if entry is not None:
            return entry
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._appauth(app, user_id, key))
            self._inflight[key] = task
            task.add_done_callback(partial(self._appauth_done, key))
        # shield: one impatient (cancelled) caller must not cancel the others' appauth.
        return await asyncio.shield(task)

    def _appauth_done(self, key: CacheKey, task: asyncio.Task[CachedToken]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: waiters re-raise it; nobody waiting is fine too

    async def _appauth(
        self, app: AppCredentials, user_id: str | None, key: CacheKey
    ) -> CachedToken:
        asked_at = self._clock()
        data = await self._sender.send(
            "POST", APPAUTH, prepare=partial(self._signed_appauth, app, user_id), during_auth=True
        )
        token = parse(_TOKEN, data)
        entry = CachedToken(
            token, token.access_token.get_secret_value(), asked_at + token.usable_for()
        )
        self.tokens.put(key, entry)
        return entry

    def _signed_appauth(self, app: AppCredentials, user_id: str | None) -> Prepared:
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
