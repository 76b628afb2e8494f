"""Seen keys: `first_sight` is true once per key and scope, on every repository sharing the
database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.repo import Repository
from storage.secrets import SecretBox
from tests.storage.conftest import StepClock


async def test_first_sight_is_true_once_per_key_and_scope_until_it_expires(
    repo: Repository, clock: StepClock
) -> None:
    ttl = timedelta(minutes=10)
    assert await repo.first_sight(scope="slack.trigger", key="T1", ttl=ttl)
    assert not await repo.first_sight(scope="slack.trigger", key="T1", ttl=ttl)
    assert await repo.first_sight(scope="slack.view", key="T1", ttl=ttl)
    assert await repo.first_sight(scope="slack.trigger", key="T2", ttl=ttl)
    clock._now += ttl
    assert await repo.first_sight(scope="slack.trigger", key="T1", ttl=ttl)


async def test_first_sight_is_shared_by_every_repository_on_the_database(
    engine: AsyncEngine, box: SecretBox, clock: StepClock
) -> None:
    replicas = [Repository(session_factory(engine), box, clock=clock) for _ in range(4)]
    ttl = timedelta(minutes=10)
    answers = await asyncio.gather(
        *(r.first_sight(scope="hcm.nonce", key="n-1", ttl=ttl) for r in replicas * 3)
    )
    assert sorted(answers) == [False] * 11 + [True]
