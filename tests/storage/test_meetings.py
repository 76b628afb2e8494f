"""Meetings: atomic and idempotent records, cancelling, state and card updates, the upcoming
list and the cross-workspace maintenance queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.errors import StorageError
from storage.models import MeetingState
from storage.repo import NewDelivery, NewMeeting, Repository
from tests.storage.samples import T0, add, meeting, reminders


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
