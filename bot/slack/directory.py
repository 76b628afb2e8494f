"""Who a Slack user is (users.info), cached briefly so a command costs at most one lookup."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import Profile
from bot.slack.installs import acting_for

__all__ = ["SlackDirectory", "profile_from_user"]

log = logging.getLogger(__name__)

CACHE_SECONDS: Final = 300.0
CACHE_SIZE: Final = 10_000


def profile_from_user(user: dict[str, Any]) -> Profile:
    """A users.info `user` object as a Profile."""
    profile = user.get("profile") or {}
    grid = user.get("enterprise_user") or {}
    return Profile(
        user_id=str(user["id"]),
        team_id=str(user.get("team_id", "")),
        name=str(
            profile.get("display_name") or user.get("real_name") or user.get("name") or user["id"]
        ),
        tz=user.get("tz") or None,
        email=profile.get("email") or None,
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
        teams=tuple(str(t) for t in grid.get("teams") or ()),
    )


class SlackDirectory:
    """users.info behind a small TTL cache; concurrent lookups of one user share one call."""

    def __init__(
        self, client: AsyncWebClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, Profile | None]] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[Profile | None]] = {}

    async def profile(self, *, team_id: str, user_id: str, fresh: bool = False) -> Profile | None:
        """The user's profile, or None when Slack does not know them. `fresh` asks Slack even
        when a cached answer exists (rights checks must not trust a five-minute-old one)."""
        key = (team_id, user_id)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self._clock() and not fresh:
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Profile | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            found = await self._lookup(team_id, user_id)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(found)
        finally:
            del self._inflight[key]
        self._cache[key] = (self._clock() + CACHE_SECONDS, found)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    async def _lookup(self, team_id: str, user_id: str) -> Profile | None:
        try:
            with acting_for(team_id):
                response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in {"user_not_found", "user_not_visible"}:
                return None
            raise
        user = response.get("user")
        return profile_from_user(user) if isinstance(user, dict) else None
