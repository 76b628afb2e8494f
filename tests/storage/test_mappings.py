"""User mappings: upsert and delete audited, pages in user order with the total."""

from __future__ import annotations

from storage.repo import Repository
from tests.storage.samples import ADMIN


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
