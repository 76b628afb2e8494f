"""Round trips on every backend: untrusted text and aware datetimes come back unchanged,
naive datetimes are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import StatementError

from storage.errors import StorageError
from storage.repo import NewDelivery, NewMeeting, Repository
from tests.storage.samples import T0, add, meeting

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
