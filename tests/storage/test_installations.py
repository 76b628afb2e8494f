"""OAuth mode's stores on our database: installations round-trip with every token encrypted
at rest, a team's bot is found by team alone (the scheduler's case, Enterprise Grid included),
forgetting a team touches no other, install states are single use and expiring, and every
Web API call resolves its team's token there."""

from __future__ import annotations

import time

import pytest
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.installs import (
    EncryptedInstallationStore,
    Team,
    TeamTokens,
    TeamWebClient,
    acting_for,
    acting_team,
)
from storage.secrets import SecretBox

CLIENT_ID = "1111.2222"


def installation(
    team_id: str | None,
    token: str,
    *,
    enterprise_id: str | None = None,
    grid: bool = False,
    refresh: str | None = None,
) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise_id,
        team_id=team_id,
        team_name=f"Team {team_id}",
        user_id="UINSTALLER",
        user_token=f"xoxp-user-of-{team_id}",
        bot_token=token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        bot_refresh_token=refresh,
        bot_token_expires_in=43200 if refresh else None,
        is_enterprise_install=grid,
        installed_at=time.time(),
    )


def token(bot: Bot | None) -> str | None:
    return bot.bot_token if bot is not None else None


def store(engine: AsyncEngine, box: SecretBox) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=box)


async def test_installations_round_trip_per_team(engine: AsyncEngine, box: SecretBox) -> None:
    installs = store(engine, box)
    await installs.async_save(installation("T1", "xoxb-one", refresh="xoxe-1-refresh"))
    await installs.async_save(installation("T2", "xoxb-two"))

    one = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    two = await installs.async_find_bot(enterprise_id=None, team_id="T2")
    assert one is not None
    assert two is not None
    assert (one.bot_token, one.bot_refresh_token) == ("xoxb-one", "xoxe-1-refresh")
    assert one.bot_token_expires_at is not None
    assert (two.bot_token, two.bot_refresh_token) == ("xoxb-two", None)
    found = await installs.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert (found.bot_token, found.user_token) == ("xoxb-one", "xoxp-user-of-T1")
    assert await installs.async_find_bot(enterprise_id=None, team_id="T3") is None


async def test_tokens_are_encrypted_at_rest(engine: AsyncEngine, box: SecretBox) -> None:
    installs = store(engine, box)
    await installs.async_save(installation("T1", "xoxb-secret-one", refresh="xoxe-1-secret"))
    async with engine.connect() as conn:
        bots = (
            await conn.execute(text("SELECT bot_token, bot_refresh_token FROM slack_bots"))
        ).all()
        rows = (
            await conn.execute(
                text("SELECT bot_token, bot_refresh_token, user_token FROM slack_installations")
            )
        ).all()
    stored = [value for row in [*bots, *rows] for value in row]
    assert len(stored) == 5
    assert all("secret" not in value and "xox" not in value for value in stored)
    assert sorted(box.decrypt(value) for value in stored) == sorted(
        ["xoxb-secret-one", "xoxe-1-secret"] * 2 + ["xoxp-user-of-T1"]
    )
    assert "xoxb" not in repr(installs)


async def test_a_team_is_found_by_its_id_alone(engine: AsyncEngine, box: SecretBox) -> None:
    installs = store(engine, box)
    await installs.async_save(installation("T1", "xoxb-grid-team", enterprise_id="E1"))
    assert token(await installs.find_team_bot(Team("T1"))) == "xoxb-grid-team"
    assert token(await installs.find_team_bot(Team("T1", "E1"))) == "xoxb-grid-team"
    assert await installs.find_team_bot(Team("T2")) is None


async def test_an_org_wide_install_serves_each_team_it_has_seen(
    engine: AsyncEngine, box: SecretBox
) -> None:
    installs = store(engine, box)
    await installs.async_save(installation(None, "xoxb-org", enterprise_id="E1", grid=True))
    on_request = await installs.find_team_bot(Team("T7", "E1", is_enterprise_install=True))
    assert token(on_request) == "xoxb-org"
    assert await installs.find_team_bot(Team("T7")) is None  # not yet known to be in E1
    await installs.remember_grid_team(team_id="T7", enterprise_id="E1")
    await installs.remember_grid_team(team_id="T7", enterprise_id="E1")
    assert token(await installs.find_team_bot(Team("T7"))) == "xoxb-org"


async def test_forgetting_a_team_leaves_the_others(engine: AsyncEngine, box: SecretBox) -> None:
    installs = store(engine, box)
    await installs.async_save(installation("T1", "xoxb-one"))
    await installs.async_save(installation("T2", "xoxb-two", enterprise_id="E2"))
    await installs.forget(Team("T2"))
    assert await installs.find_team_bot(Team("T2")) is None
    assert await installs.async_find_installation(enterprise_id="E2", team_id="T2") is None
    assert token(await installs.find_team_bot(Team("T1"))) == "xoxb-one"


async def test_install_states_are_single_use_and_expire(engine: AsyncEngine) -> None:
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("never-issued") is False
    expired = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=-1, engine=engine)
    assert await expired.async_consume(await expired.async_issue()) is False


async def test_team_tokens_resolve_per_team_and_forget_an_uninstalled_one(
    engine: AsyncEngine, box: SecretBox
) -> None:
    installs = store(engine, box)
    tokens = TeamTokens(installs, rotator=AsyncTokenRotator(client_id=CLIENT_ID, client_secret="s"))
    await installs.async_save(installation("T1", "xoxb-one"))
    await installs.async_save(installation("T2", "xoxb-two"))
    assert token(await tokens.bot(Team("T1"))) == "xoxb-one"
    assert token(await tokens.bot(Team("T2"))) == "xoxb-two"
    assert await tokens.bot(Team("T3")) is None
    await tokens.forget(Team("T2"))
    assert await tokens.bot(Team("T2")) is None
    assert token(await tokens.bot(Team("T1"))) == "xoxb-one"
    assert "xoxb" not in repr(tokens)


async def test_web_api_calls_outside_any_team_are_refused(
    engine: AsyncEngine, box: SecretBox
) -> None:
    tokens = TeamTokens(
        store(engine, box), rotator=AsyncTokenRotator(client_id=CLIENT_ID, client_secret="s")
    )
    client = TeamWebClient(tokens, base_url="http://127.0.0.1:9/api/")
    with pytest.raises(RuntimeError, match="outside any team"):
        await client.auth_test()
    assert acting_team() is None
    with acting_for(Team("T1", "E1", is_enterprise_install=True)):
        with acting_for("T1"):
            assert acting_team() == Team("T1", "E1", is_enterprise_install=True)
        with acting_for("T2"):
            assert acting_team() == Team("T2")
    assert acting_team() is None
