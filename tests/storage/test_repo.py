"""Repository behaviour on every backend: workspace isolation, secrets at rest, atomic and
idempotent meeting records, delivery claiming (leases, takeover, concurrency), text and
datetime round trips."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.errors import StorageError
from storage.models import MappingMode, MeetingState
from storage.repo import MeetingRow, NewDelivery, NewMeeting, Repository, SentPost
from storage.secrets import SecretBox, SecretDecryptError
from tests.conftest import Database
from tests.storage.conftest import StepClock

T0 = datetime(2030, 1, 2, 10, 0, tzinfo=UTC)
ADMIN = "UADMIN"


def meeting(
    conference_id: str = "c-1",
    *,
    start: datetime = T0,
    organizer: str = "U1",
    topic: str = "Standup",
    duration: int = 30,
) -> NewMeeting:
    return NewMeeting(
        conference_id=conference_id,
        organizer_slack_id=organizer,
        organizer_third_party_id=f"{organizer}@example.com",
        topic=topic,
        start_at=start,
        duration_minutes=duration,
        tz_name="Asia/Shanghai",
        channel_id="C1",
        guest_join_url="https://meeting.example/j/1",
        invitees=("U2", "U3"),
    )


def reminders(start: datetime = T0, *minutes: int) -> list[NewDelivery]:
    return [
        NewDelivery(start, f"reminder:{m}", start - timedelta(minutes=m))
        for m in minutes or (10, 0)
    ]


async def add(
    repo: Repository, team_id: str = "T1", conference_id: str = "c-1", start: datetime = T0
) -> MeetingRow:
    return await repo.add_meeting(
        team_id=team_id,
        meeting=meeting(conference_id, start=start),
        deliveries=reminders(start),
    )


# --- workspaces and secrets ---------------------------------------------------------------


async def test_ensure_workspace_creates_defaults_then_keeps_settings(repo: Repository) -> None:
    assert await repo.get_workspace(team_id="T1") is None
    created = await repo.ensure_workspace(team_id="T1", team_name="Acme")
    assert created.mapping_mode is MappingMode.EMAIL
    assert created.reminder_minutes is None
    assert not created.has_app_key
    await repo.set_mapping_mode(team_id="T1", mode=MappingMode.EXPLICIT, actor=ADMIN)
    renamed = await repo.ensure_workspace(team_id="T1", team_name="Acme Corp")
    assert renamed.team_name == "Acme Corp"
    assert renamed.mapping_mode is MappingMode.EXPLICIT
    assert await repo.ensure_workspace(team_id="T1") == await repo.get_workspace(team_id="T1")


async def test_app_key_is_encrypted_at_rest_and_decrypted_through_the_repo(
    repo: Repository, engine: AsyncEngine, box: SecretBox
) -> None:
    await repo.set_app_credentials(
        team_id="T1", app_id="app-1", app_key="plain-app-key", corp_id="corp-1", actor=ADMIN
    )
    async with engine.connect() as conn:
        raw = (
            await conn.execute(
                text("SELECT app_key_encrypted FROM workspace WHERE team_id = :t"), {"t": "T1"}
            )
        ).scalar_one()
    assert "plain-app-key" not in raw
    assert box.decrypt(raw) == "plain-app-key"
    secrets = await repo.get_app_credentials(team_id="T1")
    assert secrets is not None
    assert (secrets.app_id, secrets.app_key, secrets.corp_id) == (
        "app-1",
        "plain-app-key",
        "corp-1",
    )
    workspace = await repo.get_workspace(team_id="T1")
    assert workspace is not None
    assert workspace.has_app_key
    assert "plain-app-key" not in repr(workspace)


async def test_app_key_never_appears_in_repr_or_audit(repo: Repository) -> None:
    await repo.set_app_credentials(
        team_id="T1", app_id="app-1", app_key="plain-app-key", corp_id=None, actor=ADMIN
    )
    secrets = await repo.get_app_credentials(team_id="T1")
    assert "plain-app-key" not in repr(secrets)
    assert "plain-app-key" not in str(secrets)
    [entry] = await repo.audit_entries(team_id="T1", limit=10)
    assert entry.action == "workspace.credentials"
    assert "plain-app-key" not in repr(entry)
    assert entry.detail["new"] == {"app_id": "app-1", "corp_id": None}


async def test_workspace_without_own_app_has_no_credentials(repo: Repository) -> None:
    assert await repo.get_app_credentials(team_id="T1") is None
    await repo.ensure_workspace(team_id="T1")
    assert await repo.get_app_credentials(team_id="T1") is None


async def test_app_credentials_survive_key_rotation(engine: AsyncEngine, clock: StepClock) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sessions = session_factory(engine)
    before = Repository(sessions, SecretBox.from_keys(old), clock=clock)
    await before.set_app_credentials(
        team_id="T1", app_id="a", app_key="key-one", corp_id=None, actor=ADMIN
    )
    rotated = Repository(sessions, SecretBox.from_keys(f"{new},{old}"), clock=clock)
    secrets = await rotated.get_app_credentials(team_id="T1")
    assert secrets is not None
    assert secrets.app_key == "key-one"
    await rotated.set_app_credentials(
        team_id="T2", app_id="a", app_key="key-two", corp_id=None, actor=ADMIN
    )
    with pytest.raises(SecretDecryptError):
        await before.get_app_credentials(team_id="T2")
    only_new = Repository(sessions, SecretBox.from_keys(new), clock=clock)
    with pytest.raises(SecretDecryptError):
        await only_new.get_app_credentials(team_id="T1")


async def test_workspace_settings_are_stored_and_audited_with_old_and_new(
    repo: Repository,
) -> None:
    await repo.set_mapping_mode(team_id="T1", mode=MappingMode.SLACK, actor=ADMIN)
    await repo.set_reminders(team_id="T1", minutes=(0, 15, 5, 15), actor=ADMIN)
    await repo.set_reminder_channel(team_id="T1", channel_id="CREM", actor=ADMIN)
    workspace = await repo.get_workspace(team_id="T1")
    assert workspace is not None
    assert workspace.mapping_mode is MappingMode.SLACK
    assert workspace.reminder_minutes == (15, 5, 0)
    assert workspace.reminder_channel_id == "CREM"
    await repo.set_reminders(team_id="T1", minutes=(), actor=ADMIN)
    workspace = await repo.get_workspace(team_id="T1")
    assert workspace is not None
    assert workspace.reminder_minutes == ()
    entries = await repo.audit_entries(team_id="T1", limit=10)
    assert [(e.action, e.detail) for e in entries] == [
        (
            "workspace.reminders",
            {"old": {"reminder_minutes": "15,5,0"}, "new": {"reminder_minutes": ""}},
        ),
        (
            "workspace.reminder_channel",
            {"old": {"reminder_channel_id": None}, "new": {"reminder_channel_id": "CREM"}},
        ),
        (
            "workspace.reminders",
            {"old": {"reminder_minutes": None}, "new": {"reminder_minutes": "15,5,0"}},
        ),
        (
            "workspace.mapping_mode",
            {"old": {"mapping_mode": "email"}, "new": {"mapping_mode": "slack"}},
        ),
    ]
    assert all(e.actor_slack_id == ADMIN and e.target == "T1" for e in entries)


@pytest.mark.parametrize("minutes", [(-1,), (10081,)], ids=["negative", "over-a-week"])
async def test_reminder_offsets_out_of_range_are_rejected(
    repo: Repository, minutes: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match="reminder offsets"):
        await repo.set_reminders(team_id="T1", minutes=minutes, actor=ADMIN)


# --- user mappings ------------------------------------------------------------------------


async def test_mapping_upsert_and_delete_are_audited(repo: Repository) -> None:
    assert await repo.get_mapping(team_id="T1", slack_user_id="U1") is None
    await repo.set_mapping(team_id="T1", slack_user_id="U1", third_party_id="alice", actor=ADMIN)
    await repo.set_mapping(team_id="T1", slack_user_id="U1", third_party_id="alice2", actor=ADMIN)
    assert await repo.get_mapping(team_id="T1", slack_user_id="U1") == "alice2"
    assert await repo.delete_mapping(team_id="T1", slack_user_id="U1", actor=ADMIN)
    assert not await repo.delete_mapping(team_id="T1", slack_user_id="U1", actor=ADMIN)
    assert await repo.get_mapping(team_id="T1", slack_user_id="U1") is None
    entries = await repo.audit_entries(team_id="T1", limit=10)
    assert [(e.action, e.target, e.detail) for e in entries] == [
        ("mapping.delete", "U1", {"old": "alice2"}),
        ("mapping.set", "U1", {"old": "alice", "new": "alice2"}),
        ("mapping.set", "U1", {"old": None, "new": "alice"}),
    ]


async def test_list_mappings_pages_in_user_order_with_total(repo: Repository) -> None:
    for user in ["U3", "U1", "U5", "U2", "U4"]:
        await repo.set_mapping(
            team_id="T1", slack_user_id=user, third_party_id=f"id-{user}", actor=ADMIN
        )
    page, total = await repo.list_mappings(team_id="T1", offset=1, limit=2)
    assert total == 5
    assert [(m.slack_user_id, m.third_party_id) for m in page] == [("U2", "id-U2"), ("U3", "id-U3")]
    assert page[0].created_by == ADMIN
    last, total = await repo.list_mappings(team_id="T1", offset=4, limit=2)
    assert ([m.slack_user_id for m in last], total) == (["U5"], 5)


# --- meetings -----------------------------------------------------------------------------


async def test_add_meeting_records_meeting_and_its_deliveries(repo: Repository) -> None:
    row = await repo.add_meeting(
        team_id="T1",
        meeting=NewMeeting(
            conference_id="c-1",
            organizer_slack_id="U1",
            organizer_third_party_id="alice",
            topic="Planning",
            start_at=T0,
            duration_minutes=45,
            tz_name="Europe/Berlin",
            is_instant=True,
            state=MeetingState.LIVE,
            recurrence={"every": "week", "count": 4},
            invitees=("U2",),
        ),
        deliveries=reminders(T0, 15, 0),
    )
    assert row.end_at == T0 + timedelta(minutes=45)
    assert (row.state, row.is_instant, row.invitees) == (MeetingState.LIVE, True, ("U2",))
    assert row.recurrence == {"every": "week", "count": 4}
    assert row.message_ts is None
    assert await repo.get_meeting(team_id="T1", meeting_id=row.id) == row
    assert await repo.get_meeting_by_conference(team_id="T1", conference_id="c-1") == row
    deliveries = await repo.deliveries(team_id="T1", meeting_id=row.id)
    assert [(d.kind, d.due_at, d.occurrence, d.attempts) for d in deliveries] == [
        ("reminder:15", T0 - timedelta(minutes=15), T0, 0),
        ("reminder:0", T0, T0, 0),
    ]


async def test_add_meeting_is_idempotent_on_conference_id(repo: Repository) -> None:
    first = await add(repo)
    again = await repo.add_meeting(
        team_id="T1",
        meeting=meeting("c-1", topic="A different topic"),
        deliveries=[NewDelivery(T0, "reminder:30", T0 - timedelta(minutes=30))],
    )
    assert again == first
    assert [d.kind for d in await repo.deliveries(team_id="T1", meeting_id=first.id)] == [
        "reminder:10",
        "reminder:0",
    ]


async def test_add_meeting_is_atomic_when_a_delivery_insert_fails(repo: Repository) -> None:
    duplicate = NewDelivery(T0, "reminder:10", T0 - timedelta(minutes=10))
    with pytest.raises(StorageError) as raised:
        await repo.add_meeting(team_id="T1", meeting=meeting(), deliveries=[duplicate, duplicate])
    assert isinstance(raised.value.__cause__, IntegrityError)
    assert await repo.get_meeting_by_conference(team_id="T1", conference_id="c-1") is None
    assert (
        await repo.upcoming_meetings(team_id="T1", organizer_slack_id=None, now=T0, limit=10) == []
    )
    assert await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=10) == []
    # The failure left nothing behind that would block a correct retry.
    row = await add(repo)
    assert len(await repo.deliveries(team_id="T1", meeting_id=row.id)) == 2


async def test_cancel_withdraws_pending_deliveries_but_not_sent_ones(repo: Repository) -> None:
    row = await add(repo)
    [early] = await repo.claim_due(
        now=T0 - timedelta(minutes=10), worker_id="w", lease_seconds=30, limit=10
    )
    assert await repo.mark_sent(
        team_id="T1", delivery_id=early.delivery.id, worker_id="w", slack_ts="1.1", sent_at=T0
    )
    cancelled = await repo.cancel_meeting(team_id="T1", meeting_id=row.id, actor="U1")
    assert cancelled is not None
    assert cancelled.state is MeetingState.CANCELLED
    by_kind = {d.kind: d for d in await repo.deliveries(team_id="T1", meeting_id=row.id)}
    assert by_kind["reminder:10"].withdrawn_at is None
    assert by_kind["reminder:10"].slack_ts == "1.1"
    assert by_kind["reminder:0"].withdrawn_at is not None
    assert await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=10) == []
    [entry] = await repo.audit_entries(team_id="T1", limit=10)
    assert (entry.action, entry.actor_slack_id, entry.target) == ("meeting.cancel", "U1", "c-1")
    assert entry.detail["withdrawn"] == 1


async def test_cancelling_twice_or_a_missing_meeting_changes_nothing(repo: Repository) -> None:
    row = await add(repo)
    first = await repo.cancel_meeting(team_id="T1", meeting_id=row.id, actor="U1")
    second = await repo.cancel_meeting(team_id="T1", meeting_id=row.id, actor="U1")
    assert second == first
    assert len(await repo.audit_entries(team_id="T1", limit=10)) == 1
    assert await repo.cancel_meeting(team_id="T1", meeting_id=row.id + 100, actor="U1") is None


async def test_state_updates_and_card_are_recorded(repo: Repository) -> None:
    row = await add(repo)
    carded = await repo.set_card(
        team_id="T1", meeting_id=row.id, channel_id="C9", message_ts="171.2", card_state="scheduled"
    )
    assert carded is not None
    assert (carded.channel_id, carded.message_ts, carded.card_state) == ("C9", "171.2", "scheduled")
    live = await repo.update_meeting_state(
        team_id="T1", meeting_id=row.id, state=MeetingState.LIVE, started_at=T0, participant_count=3
    )
    assert live is not None
    assert (live.state, live.started_at, live.participant_count) == (MeetingState.LIVE, T0, 3)
    ended = await repo.update_meeting_state(
        team_id="T1", meeting_id=row.id, state=MeetingState.ENDED, ended_at=T0 + timedelta(hours=1)
    )
    assert ended is not None
    assert (ended.started_at, ended.ended_at, ended.participant_count) == (
        T0,
        T0 + timedelta(hours=1),
        3,
    )
    assert ended.updated_at > ended.created_at
    assert await repo.get_meeting(team_id="T1", meeting_id=row.id) == ended


async def test_upcoming_meetings_are_open_ones_by_start(repo: Repository) -> None:
    later = await add(repo, conference_id="later", start=T0 + timedelta(hours=2))
    soon = await add(repo, conference_id="soon", start=T0 + timedelta(hours=1))
    await add(repo, conference_id="over", start=T0 - timedelta(hours=2))  # scheduled, but over
    running = await add(repo, conference_id="running", start=T0 - timedelta(hours=3))
    await repo.update_meeting_state(team_id="T1", meeting_id=running.id, state=MeetingState.LIVE)
    gone = await add(repo, conference_id="gone", start=T0 + timedelta(hours=3))
    await repo.cancel_meeting(team_id="T1", meeting_id=gone.id, actor="U1")
    other = await repo.add_meeting(
        team_id="T1",
        meeting=meeting("other", start=T0 + timedelta(minutes=30), organizer="U9"),
        deliveries=[],
    )
    upcoming = await repo.upcoming_meetings(team_id="T1", organizer_slack_id=None, now=T0, limit=10)
    assert [m.conference_id for m in upcoming] == ["running", "other", "soon", "later"]
    mine = await repo.upcoming_meetings(team_id="T1", organizer_slack_id="U1", now=T0, limit=2)
    assert [m.id for m in mine] == [running.id, soon.id]
    assert later.id not in [m.id for m in mine]
    assert other.organizer_slack_id == "U9"


async def test_maintenance_queries_span_workspaces(repo: Repository) -> None:
    a = await add(repo, team_id="TA", conference_id="a")
    b = await add(repo, team_id="TB", conference_id="b", start=T0 + timedelta(hours=5))
    carded = await add(repo, team_id="TB", conference_id="carded")
    await repo.set_card(
        team_id="TB", meeting_id=carded.id, channel_id="C", message_ts="1.0", card_state=None
    )
    cancelled = await add(repo, team_id="TA", conference_id="x")
    await repo.cancel_meeting(team_id="TA", meeting_id=cancelled.id, actor="U1")
    far_future = datetime(2100, 1, 1, tzinfo=UTC)
    without_card = await repo.all_workspaces_meetings_without_card(
        created_before=far_future, limit=10
    )
    assert {(m.team_id, m.id) for m in without_card} == {("TA", a.id), ("TB", b.id)}
    assert (
        await repo.all_workspaces_meetings_without_card(created_before=a.created_at, limit=10) == []
    )
    to_poll = await repo.all_workspaces_meetings_to_poll(
        starting_before=T0 + timedelta(minutes=15), limit=10
    )
    assert {(m.team_id, m.conference_id) for m in to_poll} == {("TA", "a"), ("TB", "carded")}


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


# --- delivery claiming --------------------------------------------------------------------


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


# --- isolation ----------------------------------------------------------------------------


async def populate(repo: Repository, team_id: str) -> MeetingRow:
    """The same user, conference and channel IDs in every workspace, values tagged by team."""
    await repo.set_app_credentials(
        team_id=team_id,
        app_id=f"app-{team_id}",
        app_key=f"key-{team_id}",
        corp_id=None,
        actor=ADMIN,
    )
    await repo.set_mapping(
        team_id=team_id, slack_user_id="U1", third_party_id=f"{team_id}-u1", actor=ADMIN
    )
    row = await repo.add_meeting(
        team_id=team_id, meeting=meeting("c-1", topic=f"topic {team_id}"), deliveries=reminders()
    )
    await repo.audit(
        team_id=team_id, actor_slack_id="U1", action="x", target="t", detail={"team": team_id}
    )
    return row


async def test_workspaces_never_see_each_other_through_any_read(repo: Repository) -> None:
    a = await populate(repo, "TA")
    b = await populate(repo, "TB")
    for mine, theirs in [(a, b), (b, a)]:
        team = mine.team_id
        workspace = await repo.get_workspace(team_id=team)
        assert workspace is not None
        assert workspace.app_id == f"app-{team}"
        secrets = await repo.get_app_credentials(team_id=team)
        assert secrets is not None
        assert secrets.app_key == f"key-{team}"
        assert await repo.get_mapping(team_id=team, slack_user_id="U1") == f"{team}-u1"
        mappings, total = await repo.list_mappings(team_id=team, offset=0, limit=10)
        assert ([m.third_party_id for m in mappings], total) == ([f"{team}-u1"], 1)
        assert await repo.get_meeting(team_id=team, meeting_id=theirs.id) is None
        assert await repo.get_meeting(team_id=team, meeting_id=mine.id) == mine
        by_conference = await repo.get_meeting_by_conference(team_id=team, conference_id="c-1")
        assert by_conference == mine
        for organizer in (None, "U1"):
            upcoming = await repo.upcoming_meetings(
                team_id=team, organizer_slack_id=organizer, now=T0, limit=10
            )
            assert upcoming == [mine]
        assert await repo.deliveries(team_id=team, meeting_id=theirs.id) == []
        assert {d.team_id for d in await repo.deliveries(team_id=team, meeting_id=mine.id)} == {
            team
        }
        entries = await repo.audit_entries(team_id=team, limit=100)
        assert entries
        assert {e.team_id for e in entries} == {team}
        assert entries[0].detail == {"team": team}


async def test_workspaces_cannot_change_each_others_rows(repo: Repository) -> None:
    a = await populate(repo, "TA")
    await repo.ensure_workspace(team_id="TB")
    assert not await repo.delete_mapping(team_id="TB", slack_user_id="U1", actor=ADMIN)
    assert await repo.cancel_meeting(team_id="TB", meeting_id=a.id, actor=ADMIN) is None
    assert (
        await repo.set_card(
            team_id="TB", meeting_id=a.id, channel_id="C", message_ts="1", card_state="x"
        )
        is None
    )
    assert (
        await repo.update_meeting_state(team_id="TB", meeting_id=a.id, state=MeetingState.ENDED)
        is None
    )
    assert await repo.withdraw_pending(team_id="TB", meeting_id=a.id) == 0
    extra = [NewDelivery(T0, "started", T0)]
    assert await repo.enqueue_deliveries(team_id="TB", meeting_id=a.id, deliveries=extra) == 0
    [claimed, _] = await repo.claim_due(now=T0, worker_id="w", lease_seconds=30, limit=10)
    assert claimed.delivery.team_id == claimed.meeting.team_id == "TA"
    delivery_id = claimed.delivery.id
    assert not await repo.release(team_id="TB", delivery_id=delivery_id, worker_id="w", error="e")
    assert not await repo.mark_sent(
        team_id="TB", delivery_id=delivery_id, worker_id="w", slack_ts="1", sent_at=T0
    )
    # TA's data is exactly as before.
    assert await repo.get_mapping(team_id="TA", slack_user_id="U1") == "TA-u1"
    assert await repo.get_meeting(team_id="TA", meeting_id=a.id) == a
    pending = await repo.deliveries(team_id="TA", meeting_id=a.id)
    assert [(d.kind, d.withdrawn_at, d.sent_at) for d in pending] == [
        ("reminder:10", None, None),
        ("reminder:0", None, None),
    ]
    assert await repo.audit_entries(team_id="TB", limit=10) == []


def test_every_query_takes_team_id_except_the_scheduler_maintenance_ones() -> None:
    methods = {
        name: fn
        for name, fn in inspect.getmembers(Repository, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    # first_sight keys are globally unique identifiers (Slack's trigger and view IDs, the
    # vendor's push nonces) and a vendor push belongs to no workspace until it is read.
    cross_workspace = {name for name in methods if name.startswith("all_workspaces_")} | {
        "claim_due",
        "first_sight",
    }
    assert len(cross_workspace) == 5
    for name, fn in methods.items():
        params = list(inspect.signature(fn).parameters.values())[1:]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name
        assert ("team_id" in {p.name for p in params}) == (name not in cross_workspace), name


# --- round trips --------------------------------------------------------------------------

UNTRUSTED = [
    "'; DROP TABLE meeting; --",
    'Robert"); DELETE FROM user_mapping WHERE (1=1',
    "%s %(team_id)s :team_id ? $1 \\ \\\\ ' '' \"",
    "<!channel> & <@U123|x> *bold*",
    "多语言 会议 🎉\nsecond line\ttab",
    "  padded  ",
]


@pytest.mark.parametrize("value", UNTRUSTED, ids=[f"text{i}" for i in range(len(UNTRUSTED))])
async def test_untrusted_text_round_trips_unchanged(repo: Repository, value: str) -> None:
    team = f"T{value}"
    workspace = await repo.ensure_workspace(team_id=team, team_name=value)
    assert (workspace.team_id, workspace.team_name) == (team, value)
    await repo.set_mapping(team_id=team, slack_user_id=value, third_party_id=value, actor=value)
    assert await repo.get_mapping(team_id=team, slack_user_id=value) == value
    assert await repo.get_mapping(team_id="T1", slack_user_id=value) is None
    row = await repo.add_meeting(
        team_id=team,
        meeting=NewMeeting(
            conference_id=value,
            organizer_slack_id=value,
            organizer_third_party_id=value,
            topic=value,
            start_at=T0,
            duration_minutes=30,
            tz_name="UTC",
            channel_id=value,
            recurrence={value: value},
            guest_join_url=value,
            invitees=(value, value),
        ),
        deliveries=[NewDelivery(T0, value, T0)],
    )
    fetched = await repo.get_meeting_by_conference(team_id=team, conference_id=value)
    assert fetched == row
    assert (row.topic, row.channel_id, row.guest_join_url) == (value, value, value)
    assert (row.recurrence, row.invitees) == ({value: value}, (value, value))
    await repo.set_card(
        team_id=team, meeting_id=row.id, channel_id=value, message_ts=value, card_state=value
    )
    [claimed] = await repo.claim_due(now=T0, worker_id=value, lease_seconds=30, limit=10)
    assert (claimed.delivery.kind, claimed.meeting.message_ts) == (value, value)
    assert await repo.release(
        team_id=team, delivery_id=claimed.delivery.id, worker_id=value, error=value
    )
    [again] = await repo.claim_due(now=T0, worker_id=value, lease_seconds=30, limit=10)
    assert again.delivery.last_error == value
    await repo.audit(
        team_id=team, actor_slack_id=value, action=value, target=value, detail={value: [value]}
    )
    newest = (await repo.audit_entries(team_id=team, limit=1))[0]
    assert (newest.actor_slack_id, newest.action, newest.target) == (value, value, value)
    assert newest.detail == {value: [value]}
    mappings, _ = await repo.list_mappings(team_id=team, offset=0, limit=10)
    assert [(m.slack_user_id, m.created_by) for m in mappings] == [(value, value)]


async def test_aware_datetimes_round_trip_as_utc(repo: Repository) -> None:
    shanghai = datetime(2030, 3, 31, 10, 0, 0, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    new_york = datetime(2030, 3, 10, 3, 30, tzinfo=ZoneInfo("America/New_York"))  # just after DST
    minus = datetime(2030, 3, 31, 1, 0, tzinfo=timezone(timedelta(hours=-5)))
    rows = [
        await add(repo, conference_id=name, start=start)
        for name, start in [("sh", shanghai), ("ny", new_york), ("minus", minus)]
    ]
    for row, start in zip(rows, [shanghai, new_york, minus], strict=True):
        stored = await repo.get_meeting(team_id="T1", meeting_id=row.id)
        assert stored is not None
        assert stored.start_at == start
        assert stored.start_at.tzinfo is UTC
        assert stored.start_at.microsecond == start.microsecond
        assert stored.created_at.tzinfo is UTC
        [first, *_] = await repo.deliveries(team_id="T1", meeting_id=row.id)
        assert first.occurrence == start
        assert first.occurrence.tzinfo is UTC
    # Ordering is by instant, not by the local wall-clock text (10:00+08 is 02:00Z).
    upcoming = await repo.upcoming_meetings(
        team_id="T1", organizer_slack_id=None, now=datetime(2030, 1, 1, tzinfo=UTC), limit=10
    )
    assert [m.conference_id for m in upcoming] == ["ny", "sh", "minus"]


async def test_naive_datetimes_are_refused(repo: Repository) -> None:
    naive = datetime(2030, 1, 1, 10, 0)  # noqa: DTZ001  (the point of the test)
    with pytest.raises(ValueError, match="naive"):
        meeting(start=naive)
    with pytest.raises(ValueError, match="naive"):
        NewDelivery(T0, "started", naive)
    with pytest.raises(StorageError, match="naive") as raised:
        await repo.claim_due(now=naive, worker_id="w", lease_seconds=30, limit=1)
    assert isinstance(raised.value.__cause__, StatementError)


async def test_audit_entries_are_newest_first_and_limited(repo: Repository) -> None:
    for i in range(5):
        await repo.audit(
            team_id="T1", actor_slack_id="U1", action=f"a{i}", target="t", detail={"i": i}
        )
    entries = await repo.audit_entries(team_id="T1", limit=3)
    assert [e.action for e in entries] == ["a4", "a3", "a2"]
    assert entries[0].created_at > entries[1].created_at


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
