"""What `/meet X` does: parse the text in the user's time zone, then hand each kind of command
to its use case (meetings, identity, admin)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from bot import commands as cmd
from bot.service.admin import Admin
from bot.service.identity import WHOAMI_PROBLEMS, Identity, NotMapped, user_zone
from bot.service.meetings import Meetings
from bot.service.outcomes import Help, NoTime, OpenSchedule, Outcome, Problem, Unclear, WhoAmI
from bot.service.ports import Invocation, Profile
from storage.repo import Repository

__all__ = ["Dispatcher"]


INLINE_PARSE_MAX: Final = 120
"""Characters of command text parsed on the event loop (worst case a few ms, measured with
bench/parse_worst.py); longer text is parsed in a worker thread."""


READING_UNREADABLE: Final = (
    "That choice could not be read, so nothing was created: type the command again."
)


class Dispatcher:
    """Runs one command as the user who typed it."""

    def __init__(
        self,
        *,
        repo: Repository,
        identity: Identity,
        meetings: Meetings,
        admin: Admin,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._identity = identity
        self._meetings = meetings
        self._admin = admin
        self._clock = clock

    async def execute(self, invocation: Invocation, text: str) -> Outcome:
        """Run one `/meet` command as `invocation.user_id`."""
        profile = await self._identity.profile(invocation.team_id, invocation.user_id)
        tz = user_zone(profile)
        parse = functools.partial(cmd.parse_command, text, now=self._clock(), tz=tz)
        # A usual command parses in ~0.5 ms, inline; a long one (a hostile line at the length
        # limit costs ~25 ms of dateparser) is parsed off the event loop.
        parsed = parse() if len(text) <= INLINE_PARSE_MAX else await asyncio.to_thread(parse)
        if isinstance(parsed, cmd.CommandError):
            return Problem(parsed.problem, parsed.example)
        return await self._dispatch(invocation, profile, parsed)

    async def run(self, invocation: Invocation, command: cmd.Command) -> Outcome:
        """Run an already parsed command (buttons such as the mappings pager)."""
        profile = await self._identity.profile(invocation.team_id, invocation.user_id)
        return await self._dispatch(invocation, profile, command)

    async def confirm(self, invocation: Invocation, request: cmd.Schedule | None) -> Outcome:
        """Book the reading a user picked. It comes back from the user (a button's value): None
        if it did not read, and every rule of the command is checked again, now."""
        if request is None:
            return Problem(READING_UNREADABLE, "/meet Standup tomorrow 9:30 for 15m")
        if (error := cmd.check_schedule(request, now=self._clock())) is not None:
            return Problem(error.problem, error.example)
        return await self._meetings.schedule(invocation, request)

    async def _dispatch(
        self, invocation: Invocation, profile: Profile, command: cmd.Command
    ) -> Outcome:
        match command:
            case cmd.StartNow() | cmd.Schedule():
                return await self._meetings.create(invocation, profile, command)
            case cmd.NoTimeFound(topic=topic):
                return NoTime(topic)
            case cmd.Ambiguous():
                return Unclear(command)
            case cmd.OpenScheduleModal():
                return OpenSchedule()
            case cmd.ListMeetings():
                return await self._meetings.upcoming(invocation, profile)
            case cmd.Cancel(meeting_id=conference_id):
                return await self._meetings.cancel_conference(invocation, profile, conference_id)
            case cmd.WhoAmI():
                return await self._whoami(invocation.team_id, profile)
            case cmd.Help():
                return Help(is_admin=self._identity.is_admin(profile, invocation.team_id))
            case _:
                return await self._admin.command(invocation, profile, command)

    async def _whoami(self, team_id: str, profile: Profile) -> WhoAmI:
        workspace = await self._repo.ensure_workspace(team_id=team_id)
        identity = await self._identity.third_party(team_id, workspace.mapping_mode, profile)
        if isinstance(identity, NotMapped):
            return WhoAmI(
                profile.user_id, None, workspace.mapping_mode, WHOAMI_PROBLEMS[identity.reason]
            )
        return WhoAmI(profile.user_id, identity, workspace.mapping_mode, None)
