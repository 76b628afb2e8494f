"""What the service is given and hands back across its edges: who asked (`Invocation`), who a
chat user is (`Profile`, from a `Directory`), and the recorded rows it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storage.repo import ClaimedDelivery, DeliveryRow, MeetingRow

__all__ = [
    "ClaimedDelivery",
    "DeliveryRow",
    "Directory",
    "Invocation",
    "MeetingRow",
    "Profile",
]


@dataclass(frozen=True, slots=True)
class Profile:
    """What the chat platform says about a user."""

    user_id: str
    team_id: str
    name: str
    tz: str | None = None
    email: str | None = None
    is_admin: bool = False
    is_bot: bool = False
    teams: tuple[str, ...] = ()
    """Every workspace the user belongs to (Enterprise Grid); `team_id` alone otherwise."""

    def admin_of(self, team_id: str) -> bool:
        """An admin or owner of `team_id` itself: a Slack Connect stranger's rights in their
        own organization count for nothing here."""
        return self.is_admin and team_id in (self.team_id, *self.teams)


class Directory(Protocol):
    """Who a chat user is (Slack: users.info). `fresh` skips any cache (for rights checks)."""

    async def profile(
        self, *, team_id: str, user_id: str, fresh: bool = False
    ) -> Profile | None: ...


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who asked, where."""

    team_id: str
    user_id: str
    channel_id: str
