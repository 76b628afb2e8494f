"""The delivery queue: enqueueing and withdrawing, claiming (leases, takeover, concurrency),
recording posts as compare-and-set on the claim, releasing with the error."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.repo import NewDelivery, Repository, SentPost
from storage.secrets import SecretBox
from tests.conftest import Database
from tests.storage.samples import T0, add, reminders


async def test_enqueue_deliveries_adds_only_new_ones(repo: Repository) -> None:
    row = await add(repo)
    started = NewDelivery(T0, "started", T0)
    assert (
        await repo.enqueue_deliveries(
            team_id="T1", meeting_id=row.id, deliveries=[started, *reminders(T0)]
        )
        == 1
    )
    assert await repo.enqueue_deliveries(team_id="T1", meeting_id=row.id, deliveries=[started]) == 0
    kinds = sorted(d.kind for d in await repo.deliveries(team_id="T1", meeting_id=row.id))
    assert kinds == ["reminder:0", "reminder:10", "started"]


async def test_withdraw_pending_leaves_sent_ones(repo: Repository) -> None:
    row = await add(repo)
    [first] = await repo.claim_due(
        now=T0 - timedelta(minutes=10), worker_id="w", lease_seconds=30, limit=1
    )
    await repo.mark_sent(
        team_id="T1", delivery_id=first.delivery.id, worker_id="w", slack_ts="1.0", sent_at=T0
    )
    assert await repo.withdraw_pending(team_id="T1", meeting_id=row.id) == 1
    assert await repo.withdraw_pending(team_id="T1", meeting_id=row.id) == 0


async def test_claim_due_leases_only_due_unsent_rows_oldest_first(repo: Repository) -> None:
    row = await add(repo)
    await repo.enqueue_deliveries(
        team_id="T1",
        meeting_id=row.id,
        deliveries=[NewDelivery(T0, "ended", T0 + timedelta(hours=1))],
    )
    claimed = await repo.claim_due(now=T0, worker_id="w1", lease_seconds=30, limit=10)
    assert [c.delivery.kind for c in claimed] == ["reminder:10", "reminder:0"]
    for c in claimed:
        assert (c.delivery.claimed_by, c.delivery.attempts) == ("w1", 1)
        assert c.delivery.claimed_until == T0 + timedelta(seconds=30)
        assert c.meeting == row
    # Held by w1's lease: nobody else gets them, and nothing else is due.
    assert (
        await repo.claim_due(
            now=T0 + timedelta(seconds=29), worker_id="w2", lease_seconds=30, limit=10
        )
        == []
    )


async def test_claim_due_respects_limit(repo: Repository) -> None:
    await add(repo)
    first = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=1)
    second = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=1)
    assert [c.delivery.kind for c in first + second] == ["reminder:10", "reminder:0"]


async def test_expired_lease_is_taken_over_and_the_old_worker_loses(repo: Repository) -> None:
    await add(repo)
    [a] = await repo.claim_due(now=T0, worker_id="wa", lease_seconds=30, limit=1)
    later = T0 + timedelta(seconds=31)
    [b] = await repo.claim_due(now=later, worker_id="wb", lease_seconds=30, limit=1)
    assert b.delivery.id == a.delivery.id
    assert (b.delivery.claimed_by, b.delivery.attempts) == ("wb", 2)
    assert not await repo.mark_sent(
        team_id="T1", delivery_id=a.delivery.id, worker_id="wa", slack_ts="1.a", sent_at=later
    )
    assert await repo.mark_sent(
        team_id="T1", delivery_id=b.delivery.id, worker_id="wb", slack_ts="1.b", sent_at=later
    )
    assert not await repo.mark_sent(
        team_id="T1", delivery_id=a.delivery.id, worker_id="wa", slack_ts="1.a", sent_at=later
    )
    [stored] = [
        d
        for d in await repo.deliveries(team_id="T1", meeting_id=a.meeting.id)
        if d.id == a.delivery.id
    ]
    assert (stored.sent_at, stored.slack_ts, stored.claimed_by) == (later, "1.b", "wb")


async def test_mark_sent_is_idempotent_and_sent_rows_are_never_claimed(repo: Repository) -> None:
    await add(repo)
    [c] = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=1)
    for _ in range(2):
        assert await repo.mark_sent(
            team_id="T1", delivery_id=c.delivery.id, worker_id="w", slack_ts="9.9", sent_at=T0
        )
    far = T0 + timedelta(days=1)
    claimed = await repo.claim_due(now=far, worker_id="w2", lease_seconds=30, limit=10)
    assert [x.delivery.kind for x in claimed] == ["reminder:0"]


async def test_mark_sent_many_records_only_this_workers_claims_in_this_workspace(
    repo: Repository,
) -> None:
    await add(repo)
    [mine] = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=1)
    [theirs] = await repo.claim_due(now=T0, worker_id="other", lease_seconds=30, limit=1)
    posts = [SentPost(mine.delivery.id, "1.mine"), SentPost(theirs.delivery.id, "1.theirs")]

    assert await repo.mark_sent_many(team_id="T2", sent=posts, worker_id="w", sent_at=T0) == set()
    for _ in range(2):  # repeating the same record is harmless
        recorded = await repo.mark_sent_many(team_id="T1", sent=posts, worker_id="w", sent_at=T0)
        assert recorded == {mine.delivery.id}
    stored = {d.id: d for d in await repo.deliveries(team_id="T1", meeting_id=mine.meeting.id)}
    assert (stored[mine.delivery.id].slack_ts, stored[mine.delivery.id].sent_at) == ("1.mine", T0)
    assert stored[theirs.delivery.id].sent_at is None  # another worker's claim is untouched


async def test_release_returns_the_delivery_with_its_error(repo: Repository) -> None:
    await add(repo)
    [c] = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=1)
    assert not await repo.release(
        team_id="T1", delivery_id=c.delivery.id, worker_id="other", error="x"
    )
    assert await repo.release(
        team_id="T1",
        delivery_id=c.delivery.id,
        worker_id="w",
        error="ratelimited " * 200,
        retry_at=T0 + timedelta(seconds=20),
    )
    soon = await repo.claim_due(
        now=T0 + timedelta(seconds=10), worker_id="w", lease_seconds=30, limit=1
    )
    assert [x.delivery.kind for x in soon] == ["reminder:0"]
    [again] = await repo.claim_due(
        now=T0 + timedelta(seconds=20), worker_id="w2", lease_seconds=30, limit=1
    )
    assert again.delivery.id == c.delivery.id
    assert again.delivery.attempts == 2
    assert again.delivery.last_error is not None
    assert again.delivery.last_error.startswith("ratelimited ratelimited")
    assert len(again.delivery.last_error) == 1000


async def test_concurrent_claimers_never_get_the_same_row(
    repo: Repository, database: Database, box: SecretBox
) -> None:
    for i in range(20):
        await add(repo, team_id=f"T{i % 3}", conference_id=f"c{i}", start=T0 + timedelta(seconds=i))
    engines = [create_engine(database.url) for _ in range(2)]
    try:
        workers = [Repository(session_factory(e), box) for e in engines]

        async def both(now: datetime, limit: int) -> list[set[int]]:
            results = await asyncio.gather(
                *(
                    w.claim_due(now=now, worker_id=f"w{n}", lease_seconds=60, limit=limit)
                    for n, w in enumerate(workers)
                )
            )
            return [{c.delivery.id for c in claimed} for claimed in results]

        now = T0 + timedelta(minutes=1)
        seen: list[int] = []
        for expected_total in (30, 10, 0):
            a, b = await both(now, 15)
            assert not a & b
            assert len(a) + len(b) == expected_total
            seen += [*a, *b]
        assert len(seen) == len(set(seen)) == 40
        # Every lease has expired: all 40 are claimable again, still never twice.
        a, b = await both(now + timedelta(seconds=61), 40)
        assert not a & b
        assert a | b == set(seen)
    finally:
        for e in engines:
            await e.dispose()


async def test_schema_refuses_a_delivery_for_another_workspaces_meeting(
    repo: Repository, engine: AsyncEngine
) -> None:
    a = await add(repo, team_id="TA")
    await repo.ensure_workspace(team_id="TB")
    insert = text(
        "INSERT INTO delivery (team_id, meeting_id, occurrence, kind, due_at, attempts) "
        "VALUES (:team, :meeting, :at, 'started', :at, 0)"
    )
    at = "2030-01-02 10:00:00"
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert, {"team": "TB", "meeting": a.id, "at": at})
    async with engine.begin() as conn:
        await conn.execute(insert, {"team": "TA", "meeting": a.id, "at": at})


async def test_withdraw_team_drops_only_that_workspaces_unsent_messages(repo: Repository) -> None:
    gone = await add(repo, team_id="T1")
    kept = await add(repo, team_id="T2")
    [first] = await repo.claim_due(
        now=T0 - timedelta(minutes=10), worker_id="w", lease_seconds=30, limit=1
    )
    sent = first.delivery.team_id == "T1"
    await repo.mark_sent(
        team_id=first.delivery.team_id,
        delivery_id=first.delivery.id,
        worker_id="w",
        slack_ts="1.1",
        sent_at=T0,
    )
    assert await repo.withdraw_team(team_id="T1", reason="uninstalled") == (1 if sent else 2)
    dropped = await repo.deliveries(team_id="T1", meeting_id=gone.id)
    assert all(d.withdrawn_at is not None for d in dropped if d.sent_at is None)
    assert {d.last_error for d in dropped if d.sent_at is None} == {"uninstalled"}
    assert all(
        d.withdrawn_at is None for d in await repo.deliveries(team_id="T2", meeting_id=kept.id)
    )
    assert await repo.withdraw_team(team_id="T1", reason="again") == 0


async def test_redirect_hands_a_claimed_delivery_to_each_person_once(repo: Repository) -> None:
    row = await add(repo)
    [first, _] = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=10)
    people = ["UALICE", "UBOB", "UALICE"]
    assert not await repo.redirect_delivery(
        team_id="T1",
        delivery_id=first.delivery.id,
        worker_id="other",
        recipients=people,
        reason="x",
    )
    assert await repo.redirect_delivery(
        team_id="T1",
        delivery_id=first.delivery.id,
        worker_id="w",
        recipients=people,
        reason="sent by DM instead",
    )
    # Done once: a repeat (another replica, a retry) changes nothing more.
    assert not await repo.redirect_delivery(
        team_id="T1", delivery_id=first.delivery.id, worker_id="w", recipients=people, reason="x"
    )
    rows = await repo.deliveries(team_id="T1", meeting_id=row.id)
    handed = [d for d in rows if d.kind == first.delivery.kind]
    by_recipient = {d.recipient: d for d in handed}
    assert sorted(by_recipient) == ["", "UALICE", "UBOB"]
    assert by_recipient[""].withdrawn_at is not None
    assert by_recipient[""].last_error == "sent by DM instead"
    for person in ("UALICE", "UBOB"):
        owed = by_recipient[person]
        assert (owed.due_at, owed.occurrence, owed.withdrawn_at) == (
            first.delivery.due_at,
            first.delivery.occurrence,
            None,
        )
    claimed = await repo.claim_due(now=T0, worker_id="w2", lease_seconds=30, limit=10)
    assert sorted(c.delivery.recipient for c in claimed) == ["UALICE", "UBOB"]
