"""Workspace isolation through the composed `Repository`: no read shows, and no write changes,
another workspace's rows; every query but the scheduler's maintenance ones takes team_id."""

from __future__ import annotations

import inspect

from storage.models import MeetingState
from storage.repo import MeetingRow, NewDelivery, Repository
from tests.storage.samples import ADMIN, T0, meeting, reminders


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
    # Repository is composed of one class per kind of data: every kind is in it, and no
    # query is defined by two kinds (one would silently hide the other).
    kinds = [cls for cls in Repository.__mro__ if cls.__module__.startswith("storage.repo.")]
    assert {fn.__module__ for fn in methods.values()} == {
        f"storage.repo.{kind}"
        for kind in ("workspaces", "mappings", "meetings", "deliveries", "audit", "idempotency")
    }
    defined = [
        name
        for cls in kinds
        for name, fn in vars(cls).items()
        if inspect.iscoroutinefunction(fn) and not name.startswith("_")
    ]
    assert sorted(defined) == sorted(methods)
    for name, fn in methods.items():
        params = list(inspect.signature(fn).parameters.values())[1:]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name
        assert ("team_id" in {p.name for p in params}) == (name not in cross_workspace), name
