"""The audit log: newest entries first, limited."""

from __future__ import annotations

from storage.repo import Repository


async def test_audit_entries_are_newest_first_and_limited(repo: Repository) -> None:
    for i in range(5):
        await repo.audit(
            team_id="T1", actor_slack_id="U1", action=f"a{i}", target="t", detail={"i": i}
        )
    entries = await repo.audit_entries(team_id="T1", limit=3)
    assert [e.action for e in entries] == ["a4", "a3", "a2"]
    assert entries[0].created_at > entries[1].created_at
