"""Whose token a Web API call carries: the installation store on our database (bot and refresh
tokens encrypted at rest), `TeamTokens` — the one place that resolves a team's bot token
(refreshing a rotating one before it expires) — Bolt's `authorize` on it, and `TeamWebClient`,
which calls as the team the current task acts for (`acting_for`).

OAuth mode only; with SLACK_BOT_TOKEN one plain client serves the one workspace.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import sqlalchemy as sa
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "Cipher",
    "EncryptedInstallationStore",
    "Team",
    "TeamAuthorize",
    "TeamTokens",
    "TeamWebClient",
    "acting_for",
    "acting_team",
]

log = logging.getLogger(__name__)

CACHE_SECONDS: Final = 60.0
"""How long a resolved token is reused before the store is asked again (another replica may
have refreshed it, or the team uninstalled the app)."""

_BOT_SECRETS: Final = ("bot_token", "bot_refresh_token")
_INSTALLATION_SECRETS: Final = (*_BOT_SECRETS, "user_token", "user_refresh_token")
_GRID_TEAMS: Final = sa.table(
    "slack_grid_teams", sa.column("client_id"), sa.column("team_id"), sa.column("enterprise_id")
)


@dataclass(frozen=True, slots=True)
class Team:
    """A workspace the app acts for. `enterprise_id` and `is_enterprise_install` are known on
    Slack's requests; the scheduler knows only the team (the store finds the rest)."""

    team_id: str
    enterprise_id: str | None = None
    is_enterprise_install: bool = False


_acting: ContextVar[Team | None] = ContextVar("meetbot_slack_team", default=None)


@contextmanager
def acting_for(team: Team | str) -> Iterator[None]:
    """Web API calls made inside the block (and in tasks started there) carry `team`'s token.
    A bare team ID keeps what a request told of the same team (its organisation)."""
    if isinstance(team, str):
        current = _acting.get()
        team = current if current is not None and current.team_id == team else Team(team)
    reset = _acting.set(team)
    try:
        yield
    finally:
        _acting.reset(reset)


def acting_team() -> Team | None:
    """The team the current task acts for, if any."""
    return _acting.get()


class Cipher(Protocol):
    """Encryption at rest (storage.secrets.SecretBox)."""

    def encrypt(self, plain: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


Record = TypeVar("Record", Bot, Installation)


def _transformed(record: Record, names: tuple[str, ...], change: Callable[[str], str]) -> Record:
    copied = copy.copy(record)
    for name in names:
        value = getattr(record, name, None)
        if value is not None:
            setattr(copied, name, change(value))
    return copied


class EncryptedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store on our engine (tables: migration 0005), with
    every token encrypted before it is written and decrypted after it is read."""

    def __init__(self, *, client_id: str, engine: AsyncEngine, cipher: Cipher) -> None:
        self._inner = AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)
        self._cipher = cipher
        self._engine = engine
        self._client_id = client_id

    def __repr__(self) -> str:
        return f"EncryptedInstallationStore(client_id={self._client_id!r})"

    @property
    def logger(self) -> logging.Logger:
        return log

    def _seal(self, record: Record) -> Record:
        names = _INSTALLATION_SECRETS if isinstance(record, Installation) else _BOT_SECRETS
        return _transformed(record, names, self._cipher.encrypt)

    def _open(self, record: Record | None) -> Record | None:
        if record is None:
            return None
        names = _INSTALLATION_SECRETS if isinstance(record, Installation) else _BOT_SECRETS
        return _transformed(record, names, self._cipher.decrypt)

    async def async_save(self, installation: Installation) -> None:
        await self._inner.async_save(self._seal(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await self._inner.async_save_bot(self._seal(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return self._open(
            await self._inner.async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return self._open(
            await self._inner.async_find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._inner.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._inner.async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    async def find_team_bot(self, team: Team) -> Bot | None:
        """The newest bot installation serving `team`: looked up by organisation and team as
        Slack names them on a request, or by team alone (the scheduler's case): a
        workspace's own install, else its organisation's org-wide install."""
        if team.enterprise_id is not None or team.is_enterprise_install:
            return await self.async_find_bot(
                enterprise_id=team.enterprise_id,
                team_id=team.team_id,
                is_enterprise_install=team.is_enterprise_install,
            )
        bots = self._inner.bots
        query = (
            bots.select()
            .where(
                bots.c.client_id == self._client_id,
                bots.c.team_id == team.team_id,
                bots.c.bot_token.is_not(None),
            )
            .order_by(bots.c.installed_at.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
            organisation = None
            if row is None:
                organisation = (
                    await conn.execute(
                        sa.select(_GRID_TEAMS.c.enterprise_id).where(
                            _GRID_TEAMS.c.client_id == self._client_id,
                            _GRID_TEAMS.c.team_id == team.team_id,
                        )
                    )
                ).scalar()
        if row is not None:
            return self._open(SQLAlchemyInstallationStore.build_bot_entity(row))
        if organisation is None:
            return None
        return await self.async_find_bot(
            enterprise_id=str(organisation), team_id=None, is_enterprise_install=True
        )

    async def remember_grid_team(self, *, team_id: str, enterprise_id: str) -> None:
        """Note that `team_id` belongs to the organisation `enterprise_id` (org-wide install)."""
        try:
            async with self._engine.begin() as conn:
                known = (
                    await conn.execute(
                        sa.select(_GRID_TEAMS.c.enterprise_id).where(
                            _GRID_TEAMS.c.client_id == self._client_id,
                            _GRID_TEAMS.c.team_id == team_id,
                        )
                    )
                ).scalar()
                if known is None:
                    await conn.execute(
                        sa.insert(_GRID_TEAMS).values(
                            client_id=self._client_id, team_id=team_id, enterprise_id=enterprise_id
                        )
                    )
        except IntegrityError:
            pass  # another replica noted it first

    async def forget(self, team: Team) -> None:
        """Delete every installation serving `team` (the app was uninstalled there)."""
        stored = None if team.is_enterprise_install else team.team_id
        if team.enterprise_id is None and not team.is_enterprise_install:
            bot = await self.find_team_bot(team)
            enterprise = bot.enterprise_id if bot is not None else None
        else:
            enterprise = team.enterprise_id
        await self.async_delete_bot(enterprise_id=enterprise, team_id=stored)
        await self.async_delete_installation(enterprise_id=enterprise, team_id=stored)


class TeamTokens:
    """Each team's bot installation, read from the store, refreshed through
    `oauth.v2.access` (grant_type=refresh_token) before its token expires, and cached briefly.
    Both Bolt's authorize and every Web API call resolve tokens here."""

    def __init__(
        self,
        store: EncryptedInstallationStore,
        *,
        rotator: AsyncTokenRotator,
        rotate_minutes: int = 120,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._rotator = rotator
        self._rotate_minutes = rotate_minutes
        self._clock = clock
        self._cache: dict[Team, tuple[float, Bot]] = {}
        self._locks: dict[Team, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"TeamTokens(<{len(self._cache)} cached>)"

    async def bot(self, team: Team) -> Bot | None:
        """The team's bot installation with a token valid for the next `rotate_minutes`, or
        None if the app is not installed there (or its token could not be refreshed)."""
        hit = self._cache.get(team)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        async with self._locks.setdefault(team, asyncio.Lock()):
            hit = self._cache.get(team)
            if hit is not None and hit[0] > self._clock():
                return hit[1]
            bot = await self.store.find_team_bot(team)
            if bot is not None and bot.bot_refresh_token is not None:
                bot = await self._refreshed(bot)
            if bot is None:
                self._cache.pop(team, None)
                return None
            self._cache[team] = (self._clock() + CACHE_SECONDS, bot)
            return bot

    async def _refreshed(self, bot: Bot) -> Bot | None:
        try:
            fresh = await self._rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=self._rotate_minutes
            )
        except SlackTokenRotationError as exc:
            log.warning(
                "team %s: its bot token could not be refreshed (%s)",
                bot.team_id or bot.enterprise_id,
                exc.api_error.response.get("error"),
            )
            return None
        if fresh is None:
            return bot
        await self.store.async_save_bot(fresh)
        return fresh

    async def forget(self, team: Team) -> None:
        """Delete the team's installation and stop using its token in this process."""
        await self.store.forget(team)
        for cached in [t for t in self._cache if t.team_id == team.team_id]:
            del self._cache[cached]


class TeamAuthorize(AsyncAuthorize):
    """Bolt's authorize on `TeamTokens`: the request's team's bot token, no auth.test."""

    def __init__(self, tokens: TeamTokens) -> None:
        self._tokens = tokens

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: str | None,  # actor_* (user-token resolution): meetbot holds no user token
    ) -> AuthorizeResult | None:
        grid = bool(context.is_enterprise_install)
        team = Team(team_id or "", enterprise_id, grid)
        bot = await self._tokens.bot(team)
        if bot is None:
            log.info("no installation for team %s (organisation %s)", team_id, enterprise_id)
            return None
        if grid and team_id and enterprise_id:
            await self._tokens.store.remember_grid_team(
                team_id=team_id, enterprise_id=enterprise_id
            )
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


class TeamWebClient(AsyncWebClient):
    """A Web API client whose every call carries the bot token of the team the calling task
    acts for (`acting_for`; Bolt's requests set it from the request). A call outside any team
    is a bug and raises; a team without an installation calls without a token, and Slack
    answers `not_authed` as it would."""

    def __init__(self, tokens: TeamTokens, **kwargs: Any) -> None:
        super().__init__(token=None, **kwargs)
        self._tokens = tokens

    async def api_call(  # type: ignore[override]  # slack_sdk's own signature, untyped dicts
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        team = _acting.get()
        if team is None:
            raise RuntimeError(f"{api_method}: a Web API call outside any team")
        bot = await self._tokens.bot(team)
        if bot is not None and bot.bot_token:
            headers = {**(headers or {}), "Authorization": f"Bearer {bot.bot_token}"}
        else:
            log.warning("%s for team %s: the app is not installed there", api_method, team)
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=data,
            params=params,
            json=json,
            headers=headers,
            auth=auth,
        )
