"""Exactly once across crashes and replicas: real `meetbot serve` processes, killed with
SIGKILL at the three points a post can be interrupted (in a channel and in the app's DM), and
three replicas on one PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.db import upgrade
from storage.repo import DeliveryRow
from tests.conftest import Database
from tests.e2e.processes import Fleet, fleet_env
from tests.e2e.scheduling import now, repository, seed
from tests.fakes.sandbox import RunningSandbox
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.slow


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture
def fleet(
    sandbox: RunningSandbox,
    fake_slack: tuple[FakeSlack, str],
    empty_database: Database,
    tmp_path: Path,
) -> Fleet:
    upgrade(empty_database.url)  # seeding happens before the first process migrates
    env = fleet_env(
        slack_url=fake_slack[1],
        sandbox_url=sandbox.base_url,
        database_url=empty_database.url,
        data_dir=tmp_path / "data",
    )
    return Fleet(env, tmp_path)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _seed_due(url: str, conference_id: str, channel: str) -> int:
    async with repository(url) as repo:
        t0 = now()
        meeting = await seed(
            repo,
            conference_id=conference_id,
            channel=channel,
            start=t0 + timedelta(minutes=10),
            reminders=[(10, t0)],
        )
        rows = await repo.deliveries(team_id="T1", meeting_id=meeting.id)
        return rows[0].id


async def _rows(url: str) -> dict[int, DeliveryRow]:
    async with repository(url) as repo:
        out: dict[int, DeliveryRow] = {}
        for meeting_id in range(1, 400):
            for row in await repo.deliveries(team_id="T1", meeting_id=meeting_id):
                out[row.id] = row
        return out


def _wait_sent(url: str, delivery_id: int, within: float = 60) -> DeliveryRow:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row: DeliveryRow | None = run(_rows(url)).get(delivery_id)
        if row is not None and row.sent_at is not None:
            return row
        time.sleep(0.1)
    raise AssertionError(f"delivery {delivery_id} was never recorded as sent")


def test_kill_9_at_every_point_of_a_post_still_posts_each_message_once(
    fleet: Fleet, fake_slack: tuple[FakeSlack, str], empty_database: Database
) -> None:
    slack, url = fake_slack[0], empty_database.url
    first = run(_seed_due(url, "910000001", "C1"))

    # 1. Killed after claiming: Slack never received the post.
    slack.hold("chat.postMessage", "before")
    with fleet.serve("one") as process:
        slack.wait_held("chat.postMessage")
        kill(process)
    slack.release("chat.postMessage", drop=True)
    assert slack.delivery_posts() == {}

    # 2. Killed after Slack posted it, before the bot heard back (nothing recorded).
    slack.hold("chat.postMessage", "after")
    with fleet.serve("two") as process:
        slack.wait_held("chat.postMessage")
        kill(process)
    slack.release("chat.postMessage")
    assert slack.delivery_posts() == {first: 1}
    assert run(_rows(url))[first].sent_at is None

    # 3. Killed right after recording a post: the restart finds the first message's post
    # through its metadata, and posts the second message once.
    second = run(_seed_due(url, "910000002", "C2"))
    with fleet.serve("three") as process:
        recorded = _wait_sent(url, second)
        kill(process)
    assert slack.calls_to("conversations.history"), "the unknown outcome was looked up"
    with fleet.serve("four"):
        found = _wait_sent(url, first)
        # A message due after that is posted by a later tick of the same process: whatever
        # that process would post again (or late), it has posted by then.
        third = run(_seed_due(url, "910000003", "C3"))
        _wait_sent(url, third)
    slack.wait_idle(fake_slack[1])
    assert slack.delivery_posts() == {first: 1, second: 1, third: 1}
    posted = {m["metadata"]["event_payload"]["delivery_id"]: m["ts"] for m in slack.messages}
    assert found.slack_ts == posted[first]
    assert run(_rows(url))[second].slack_ts == recorded.slack_ts == posted[second]


async def _seed_private(url: str, conference_id: str, channel: str) -> int:
    """A due reminder of a meeting whose card could only be shown privately (the bot cannot
    post in `channel`): it goes to the organizer by the app's DM."""
    async with repository(url) as repo:
        t0 = now()
        meeting = await seed(
            repo,
            conference_id=conference_id,
            channel=channel,
            start=t0 + timedelta(minutes=10),
            reminders=[(10, t0)],
            card_ts="",
        )
        return meeting.id


def _person_row(url: str, meeting_id: int) -> DeliveryRow | None:
    async def rows() -> list[DeliveryRow]:
        async with repository(url) as repo:
            return await repo.deliveries(team_id="T1", meeting_id=meeting_id)

    return next((r for r in run(rows()) if r.recipient), None)


def test_kill_9_after_a_dm_post_finds_it_in_the_apps_dm(
    fleet: Fleet, fake_slack: tuple[FakeSlack, str], empty_database: Database
) -> None:
    slack, url = fake_slack[0], empty_database.url
    meeting_id = run(_seed_private(url, "930000001", "G0PRIVATE"))
    # Killed after Slack posted the organizer's DM, before the bot heard back.
    slack.hold("chat.postMessage", "after")
    with fleet.serve("one") as process:
        slack.wait_held("chat.postMessage")
        kill(process)
    slack.release("chat.postMessage")
    person = _person_row(url, meeting_id)
    assert person is not None
    assert person.recipient == "UALICE"
    assert person.sent_at is None
    with fleet.serve("two"):
        found = _wait_sent(url, person.id)
    slack.wait_idle(fake_slack[1])
    assert slack.delivery_posts() == {person.id: 1}
    [message] = slack.messages
    assert (message["channel"], found.slack_ts) == ("DUALICE", message["ts"])
    lookups = slack.calls_to("conversations.history")
    assert [c.args["channel"] for c in lookups] == ["DUALICE"]


async def _seed_many(url: str, count: int, channels: int, due_in: float) -> list[int]:
    async with repository(url) as repo:
        t0 = now()
        due = t0 + timedelta(seconds=due_in)
        ids = []
        for i in range(count):
            meeting = await seed(
                repo,
                conference_id=str(920000000 + i),
                channel=f"C{i % channels:03d}",
                start=due + timedelta(minutes=10),
                reminders=[(10, due)],
            )
            ids.append(meeting.id)
        return ids


def _wait_all_sent(url: str, count: int, within: float) -> dict[int, DeliveryRow]:
    """The delivery rows once `count` of them are recorded as sent: none is left to claim."""
    deadline = time.monotonic() + within
    while True:
        rows: dict[int, DeliveryRow] = run(_rows(url))
        if sum(r.sent_at is not None for r in rows.values()) >= count:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError("not every delivery was recorded as sent")
        time.sleep(0.2)


@pytest.mark.timeout(600)
def test_three_replicas_post_300_reminders_once_each(
    fleet: Fleet, fake_slack: tuple[FakeSlack, str], empty_database: Database
) -> None:
    if empty_database.backend != "postgresql":
        pytest.skip("replicas share a database only on PostgreSQL (SQLite is single-process)")
    slack, url = fake_slack[0], empty_database.url
    # This test is about replicas racing for claims (a 1 s lease, so many take-overs, each
    # followed by a history look-up), not about Slack's rate limits: at Slack's Tier 3 for
    # conversations.history (50/min) the take-overs' look-ups are refused for minutes and
    # some reminders are given up after 12 attempts (tests/demo/test_slack_rules.py covers
    # the limits; left open for issue 14's fault suite).
    slack.api.limits.budget = 20
    for i in range(30):  # public channels with the bot, where the reminders go
        slack.add_channel(f"C{i:03d}")
    with contextlib.ExitStack() as stack:
        # Every replica is up (healthy) before anything is due, however slowly they start.
        for name in ("a", "b", "c"):
            stack.enter_context(fleet.serve(name))
        run(_seed_many(url, 300, channels=30, due_in=5))
        deadline = time.monotonic() + 300
        while len(slack.delivery_posts()) < 300 and time.monotonic() < deadline:
            time.sleep(0.2)
        rows = _wait_all_sent(url, 300, within=120)
    # The replicas have exited, and the fake has answered every request that reached it:
    # whatever a late or duplicate post there could be, it is recorded now.
    slack.wait_idle(fake_slack[1])
    posts = slack.delivery_posts()
    assert len(posts) == 300, f"lost: {300 - len(posts)}"
    assert set(posts.values()) == {1}, "duplicates"
    assert all(r.sent_at is not None for r in rows.values())
    workers = {r.claimed_by for r in rows.values()}
    assert len(workers) >= 2, "the replicas shared the work"
