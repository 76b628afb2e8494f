"""A person's meetings: those they organize or are invited to (one row per invitee, filled from
existing meetings by migration 0007), paged with a total; and the duplicate guard's look-up of
one person's recent meetings in a conversation."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from alembic import command
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from storage.db import alembic_config, sync_url, upgrade
from storage.models import MeetingState
from storage.repo import NewMeeting, Repository
from tests.conftest import Database
from tests.storage.samples import T0, add, meeting


def invited(
    conference_id: str, *, organizer: str, invitees: tuple[str, ...], hours: int = 1
) -> NewMeeting:
    base = meeting(conference_id, start=T0 + timedelta(hours=hours), organizer=organizer)
    return dataclasses.replace(base, invitees=invitees)


async def test_a_person_sees_what_they_organize_and_are_invited_to(repo: Repository) -> None:
    own = await repo.add_meeting(
        team_id="T1", meeting=invited("own", organizer="UME", invitees=(), hours=3), deliveries=[]
    )
    guest = await repo.add_meeting(
        team_id="T1",
        meeting=invited("guest", organizer="UBOSS", invitees=("UX", "UME"), hours=1),
        deliveries=[],
    )
    # Not theirs: another person's meeting, a prefix of their ID, another workspace's.
    await repo.add_meeting(
        team_id="T1", meeting=invited("other", organizer="UBOSS", invitees=("UX",)), deliveries=[]
    )
    await repo.add_meeting(
        team_id="T1", meeting=invited("prefix", organizer="UB", invitees=("UM",)), deliveries=[]
    )
    await repo.add_meeting(
        team_id="T2", meeting=invited("elsewhere", organizer="UB", invitees=("UME",)), deliveries=[]
    )
    gone = await repo.add_meeting(
        team_id="T1", meeting=invited("gone", organizer="UB", invitees=("UME",)), deliveries=[]
    )
    await repo.cancel_meeting(team_id="T1", meeting_id=gone.id, actor="UB")
    await repo.add_meeting(
        team_id="T1",
        meeting=invited("over", organizer="UB", invitees=("UME",), hours=-2),
        deliveries=[],
    )

    rows, total = await repo.upcoming_for_person(
        team_id="T1", slack_user_id="UME", now=T0, limit=10
    )
    assert [m.id for m in rows] == [guest.id, own.id]
    assert total == 2


async def test_a_live_meeting_stays_listed_past_its_planned_end(repo: Repository) -> None:
    row = await repo.add_meeting(
        team_id="T1",
        meeting=invited("live", organizer="UB", invitees=("UME",), hours=-2),
        deliveries=[],
    )
    await repo.update_meeting_state(team_id="T1", meeting_id=row.id, state=MeetingState.LIVE)
    rows, total = await repo.upcoming_for_person(
        team_id="T1", slack_user_id="UME", now=T0, limit=10
    )
    assert ([m.id for m in rows], total) == ([row.id], 1)


async def test_pages_come_in_start_order_with_the_total(repo: Repository) -> None:
    ids = [
        (
            await repo.add_meeting(
                team_id="T1",
                meeting=invited(f"m{h}", organizer="UB", invitees=("UME",), hours=h),
                deliveries=[],
            )
        ).id
        for h in (5, 1, 4, 2, 3)
    ]
    by_start = [ids[1], ids[3], ids[4], ids[2], ids[0]]
    pages = [
        await repo.upcoming_for_person(
            team_id="T1", slack_user_id="UME", now=T0, limit=2, offset=offset
        )
        for offset in (0, 2, 4, 6)
    ]
    assert [[m.id for m in rows] for rows, _ in pages] == [
        by_start[:2],
        by_start[2:4],
        [by_start[4]],
        [],
    ]
    assert {total for _, total in pages} == {5}


async def test_a_repeated_invitee_or_record_adds_one_row(repo: Repository) -> None:
    new = invited("twice", organizer="UB", invitees=("UME", "UME"))
    first = await repo.add_meeting(team_id="T1", meeting=new, deliveries=[])
    assert await repo.add_meeting(team_id="T1", meeting=new, deliveries=[]) == first
    rows, total = await repo.upcoming_for_person(
        team_id="T1", slack_user_id="UME", now=T0, limit=10
    )
    assert ([m.id for m in rows], total) == ([first.id], 1)


async def test_recent_meetings_are_one_persons_open_ones_in_one_conversation(
    repo: Repository,
) -> None:
    old = await add(repo, conference_id="old")
    newer = await add(repo, conference_id="newer")
    newest = await add(repo, conference_id="newest")
    cancelled = await add(repo, conference_id="cancelled")
    await repo.cancel_meeting(team_id="T1", meeting_id=cancelled.id, actor="U1")
    await repo.add_meeting(team_id="T1", meeting=meeting("theirs", organizer="U9"), deliveries=[])
    await add(repo, team_id="T2", conference_id="elsewhere")
    found = await repo.recent_meetings_of(
        team_id="T1", organizer_slack_id="U1", channel_id="C1", created_since=newer.created_at
    )
    assert [m.id for m in found] == [newest.id, newer.id]
    assert old.id not in [m.id for m in found]
    assert (
        await repo.recent_meetings_of(
            team_id="T1", organizer_slack_id="U1", channel_id="C2", created_since=old.created_at
        )
        == []
    )


def test_migration_0007_fills_invitee_rows_from_existing_meetings(database: Database) -> None:
    engine = create_sync_engine(sync_url(database.url))
    try:
        with engine.connect() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0006")
            conn.commit()
            now = "2030-01-01 00:00:00+00:00"
            conn.execute(
                text(
                    "INSERT INTO workspace (team_id, mapping_mode, created_at, updated_at) "
                    "VALUES ('T1', 'email', :now, :now)"
                ),
                {"now": now},
            )
            for conference_id, invitees in (("a", ["U2", "U3", "U2"]), ("b", [])):
                conn.execute(
                    text(
                        "INSERT INTO meeting (team_id, conference_id, organizer_slack_id, "
                        "organizer_third_party_id, topic, start_at, end_at, duration_minutes, "
                        "tz_name, state, is_instant, invitees, created_at, updated_at) VALUES "
                        "('T1', :c, 'U1', 'u1', 'Sync', :now, :now, 30, 'UTC', 'scheduled', "
                        ":f, :i, :now, :now)"
                    ),
                    {"c": conference_id, "now": now, "f": False, "i": json.dumps(invitees)},
                )
            conn.commit()
        upgrade(database.url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT m.conference_id, i.slack_user_id FROM meeting_invitee i "
                    "JOIN meeting m ON m.team_id = i.team_id AND m.id = i.meeting_id "
                    "ORDER BY 1, 2"
                )
            ).all()
        assert [tuple(r) for r in rows] == [("a", "U2"), ("a", "U3")]
    finally:
        engine.dispose()
