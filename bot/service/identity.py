"""Who a chat user is at the meeting service: their third-party user ID (or why they have
none), their time zone, whether they are an admin, and which vendor app acts for a workspace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr

from bot.config import Settings
from bot.huawei.models import AppCredentials
from bot.rules import MappingMode, NotMappedReason
from bot.service.ports import Directory, Invocation, Profile
from storage.repo import Repository
from storage.secrets import SecretDecryptError

__all__ = [
    "WHOAMI_PROBLEMS",
    "Identity",
    "NotConfigured",
    "NotMapped",
    "NotMappedReason",
    "third_party_id",
    "user_zone",
]

log = logging.getLogger(__name__)


WHOAMI_PROBLEMS: Final = {
    NotMappedReason.EXPLICIT: "this workspace only lets people an admin has mapped use /meet.",
    NotMappedReason.NO_EMAIL: "meetbot cannot see an email address on your Slack profile.",
}


@dataclass(frozen=True, slots=True)
class NotMapped:
    """The user has no usable meeting identity."""

    reason: NotMappedReason


@dataclass(frozen=True, slots=True)
class NotConfigured:
    """The workspace has no usable meeting-service app: none at all, or (`key_unreadable`) its
    stored app key no longer opens with the server's secret key and must be entered again."""

    key_unreadable: bool = False


def third_party_id(
    *, mode: str, team_id: str, profile: Profile, explicit: str | None
) -> str | NotMapped:
    """The user's third-party ID in the workspace's mapping mode; an explicit map always wins."""
    if explicit:
        return explicit
    match mode:
        case MappingMode.SLACK:
            return f"{team_id}-{profile.user_id}"
        case MappingMode.EMAIL:
            if profile.email:
                return profile.email.lower()
            return NotMapped(NotMappedReason.NO_EMAIL)
        case _:
            return NotMapped(NotMappedReason.EXPLICIT)


def user_zone(profile: Profile) -> ZoneInfo:
    """The user's IANA time zone from their profile; UTC when unknown."""
    try:
        return ZoneInfo(profile.tz) if profile.tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class Identity:
    """Looks people and workspaces up: the chat directory, explicit mappings, stored apps."""

    def __init__(self, *, settings: Settings, repo: Repository, directory: Directory) -> None:
        self._settings = settings
        self._repo = repo
        self._directory = directory
        self._default_app = (
            AppCredentials(
                app_id=settings.hcm_app_id,
                app_key=settings.hcm_app_key,
                corp_id=settings.hcm_corp_id,
            )
            if settings.hcm_app_id and settings.hcm_app_key
            else None
        )

    async def profile(self, team_id: str, user_id: str, *, fresh: bool = False) -> Profile:
        """The user's chat profile; a bare one (name = user ID) when the directory has none."""
        profile = await self._directory.profile(team_id=team_id, user_id=user_id, fresh=fresh)
        return profile or Profile(user_id=user_id, team_id=team_id, name=user_id)

    async def invitee(self, team_id: str, user_id: str) -> Profile | None:
        """An invitee's chat profile, or None when the directory does not know them."""
        return await self._directory.profile(team_id=team_id, user_id=user_id)

    def is_admin(self, profile: Profile, team_id: str) -> bool:
        """A workspace admin (as `profile` says) or one named in MEETBOT_ADMINS."""
        return profile.user_id in self._settings.admins or profile.admin_of(team_id)

    async def is_admin_now(self, invocation: Invocation) -> bool:
        """Admin rights as Slack states them now (never from a cache): they gate changes."""
        if invocation.user_id in self._settings.admins:
            return True
        profile = await self.profile(invocation.team_id, invocation.user_id, fresh=True)
        return self.is_admin(profile, invocation.team_id)

    async def third_party(self, team_id: str, mode: str, profile: Profile) -> str | NotMapped:
        """The user's third-party ID, with the workspace's explicit mapping looked up."""
        explicit = await self._repo.get_mapping(team_id=team_id, slack_user_id=profile.user_id)
        return third_party_id(mode=mode, team_id=team_id, profile=profile, explicit=explicit)

    async def app(self, team_id: str) -> AppCredentials | NotConfigured:
        """The workspace's own app, else the default one; NotConfigured when neither is usable."""
        try:
            own = await self._repo.get_app_credentials(team_id=team_id)
        except SecretDecryptError:
            log.error("workspace %s: its stored app key cannot be decrypted", team_id)  # noqa: TRY400 -- no traceback to add
            return NotConfigured(key_unreadable=True)
        if own is not None:
            return AppCredentials(
                app_id=own.app_id, app_key=SecretStr(own.app_key), corp_id=own.corp_id
            )
        return self._default_app or NotConfigured()
