"""Workspaces: default settings, settings audited with old and new value, the app key
encrypted at rest and never shown, key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.models import MappingMode
from storage.repo import Repository
from storage.secrets import SecretBox, SecretDecryptError
from tests.storage.conftest import StepClock
from tests.storage.samples import ADMIN


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
