"""What workspace admins can change: the meeting-service app (setup and check), mappings,
mapping mode, reminders and their channel; plus the workspace's audit of Slack events."""

from __future__ import annotations

from typing import Final

from pydantic import SecretStr

from bot import commands as cmd
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import MeetingServiceError
from bot.huawei.models import AppCredentials
from bot.rules import MAPPINGS_PER_PAGE, MAX_MAPPINGS_PAGE, MappingMode
from bot.service.identity import Identity, NotConfigured
from bot.service.outcomes import (
    AdminDone,
    AppSettings,
    MappingPage,
    NotAllowed,
    OpenAdminSetup,
    Outcome,
    Problem,
    VendorFailure,
)
from bot.service.ports import Invocation, Profile
from storage.repo import Repository
from storage.secrets import SecretDecryptError

__all__ = ["KEY_UNREADABLE", "Admin"]

KEY_UNREADABLE: Final = (
    "The meeting-service app key stored for this workspace can no longer be read: meetbot's "
    "secret key (MEETBOT_SECRET_KEY) changed since it was saved."
)


class Admin:
    """The admin use cases; every change is checked against Slack's admin rights of now."""

    def __init__(
        self, *, repo: Repository, meetings: HuaweiMeetingClient, identity: Identity
    ) -> None:
        self._repo = repo
        self._meetings = meetings
        self._identity = identity

    async def app_settings(self, *, team_id: str) -> AppSettings:
        """What the setup form shows: the app ID, corp ID and mapping mode (never the key)."""
        workspace = await self._repo.ensure_workspace(team_id=team_id)
        has_key = workspace.app_id is not None and workspace.has_app_key
        return AppSettings(
            app_id=(workspace.app_id or "") if has_key else "",
            corp_id=(workspace.corp_id or "") if has_key else "",
            mapping_mode=workspace.mapping_mode,
            has_key=has_key,
            key_unreadable=has_key and not await self._repo.app_key_readable(team_id=team_id),
        )

    async def setup_app(
        self,
        invocation: Invocation,
        *,
        app_id: str,
        app_key: str | None,
        corp_id: str | None,
        mode: str,
    ) -> Outcome:
        """Store the workspace's meeting-service app and check it against the vendor first."""
        if not await self._identity.is_admin_now(invocation):
            return NotAllowed("change the meeting-service setup")
        team_id = invocation.team_id
        if app_key is None:
            try:
                own = await self._repo.get_app_credentials(team_id=team_id)
            except SecretDecryptError:
                return Problem(
                    f"{KEY_UNREADABLE} Enter the app key in the form again.",
                    "/meet admin setup  (fill in the app key)",
                )
            if own is None or own.app_id != app_id:
                return Problem(
                    "A new app ID needs its app key.",
                    "/meet admin setup  (fill in the app key too)",
                )
            app_key = own.app_key
        app = AppCredentials(app_id=app_id, app_key=SecretStr(app_key), corp_id=corp_id or None)
        try:
            await self._meetings.authenticate(app, None)
        except MeetingServiceError as exc:
            return VendorFailure(exc.user_message)
        await self._repo.set_app_credentials(
            team_id=team_id,
            app_id=app_id,
            app_key=app_key,
            corp_id=corp_id or None,
            actor=invocation.user_id,
        )
        await self._repo.set_mapping_mode(
            team_id=team_id, mode=MappingMode(mode), actor=invocation.user_id
        )
        return AdminDone(f"Saved. This workspace now uses the meeting-service app {app_id}.")

    async def command(
        self, invocation: Invocation, profile: Profile, command: cmd.Command
    ) -> Outcome:
        """Run one `/meet admin …` command (workspace admins only)."""
        if not await self._identity.is_admin_now(invocation):
            return NotAllowed("use the admin commands (workspace admins only)")
        team_id, actor = invocation.team_id, profile.user_id
        await self._repo.ensure_workspace(team_id=team_id)
        match command:
            case cmd.AdminSetup():
                return OpenAdminSetup()
            case cmd.AdminMap(user_id=user_id, third_party_id=tp_id):
                await self._repo.set_mapping(
                    team_id=team_id, slack_user_id=user_id, third_party_id=tp_id, actor=actor
                )
                return AdminDone(f"now uses the meeting user ID {tp_id}.", user_id=user_id)
            case cmd.AdminUnmap(user_id=user_id):
                removed = await self._repo.delete_mapping(
                    team_id=team_id, slack_user_id=user_id, actor=actor
                )
                if not removed:
                    return Problem("That person has no explicit mapping.", "/meet admin mappings")
                return AdminDone("is no longer mapped explicitly.", user_id=user_id)
            case cmd.AdminMappings(page=page):
                workspace = await self._repo.ensure_workspace(team_id=team_id)
                page = min(max(page, 1), MAX_MAPPINGS_PAGE)
                rows, total = await self._repo.list_mappings(
                    team_id=team_id,
                    offset=(page - 1) * MAPPINGS_PER_PAGE,
                    limit=MAPPINGS_PER_PAGE,
                )
                pages = max(1, -(-total // MAPPINGS_PER_PAGE))
                pairs = tuple((m.slack_user_id, m.third_party_id) for m in rows)
                return MappingPage(pairs, min(page, pages), pages, workspace.mapping_mode)
            case cmd.AdminMappingMode(mode=mode):
                await self._repo.set_mapping_mode(team_id=team_id, mode=mode, actor=actor)
                return AdminDone(f"People are now mapped by {mode}.")
            case cmd.AdminReminders(minutes=minutes):
                await self._repo.set_reminders(team_id=team_id, minutes=minutes, actor=actor)
                shown = ", ".join(f"{m} min" for m in minutes) or "none"
                return AdminDone(f"New meetings get reminders at: {shown} before the start.")
            case cmd.AdminChannel(channel_id=channel_id):
                await self._repo.set_reminder_channel(
                    team_id=team_id, channel_id=channel_id, actor=actor
                )
                return AdminDone(
                    f"Reminders of meetings scheduled from now on go to channel {channel_id}."
                )
            case cmd.AdminCheck():
                return await self._check(invocation)
            case _:
                return Problem("I don't know that command.", "/meet help")

    async def _check(self, invocation: Invocation) -> Outcome:
        app = await self._identity.app(invocation.team_id)
        if isinstance(app, NotConfigured):
            return app
        try:
            await self._meetings.authenticate(app, None)
        except MeetingServiceError as exc:
            return VendorFailure(exc.user_message)
        return AdminDone(f"The meeting-service app {app.app_id} accepts meetbot's signature.")

    async def record_event(self, *, team_id: str, event: str) -> None:
        """The app was removed from a workspace (uninstalled, its bot token revoked): drop
        every message still owed there, with the reason, and note it in the audit log."""
        dropped = await self._repo.withdraw_team(
            team_id=team_id, reason=f"the app was removed from the workspace ({event})"
        )
        await self._repo.audit(
            team_id=team_id,
            actor_slack_id="slack",
            action=event,
            target=team_id,
            detail={"dropped_messages": dropped},
        )
