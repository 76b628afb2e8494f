"""`MeetingService`: one object the chat side and the scheduler call, composing the use cases
(dispatch, meetings, admin, live-status tracker) over the shared ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from bot import commands as cmd
from bot.config import Settings
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.webhook import MeetingPush
from bot.service.admin import Admin
from bot.service.dispatch import Dispatcher
from bot.service.identity import Identity
from bot.service.meetings import Meetings
from bot.service.outcomes import AppSettings, Outcome
from bot.service.ports import Directory, Invocation, MeetingRow
from bot.service.status import StatusChange
from bot.service.tracker import Tracker
from storage.repo import Repository

__all__ = ["REQUEST_KEY_TTL", "MeetingService"]

REQUEST_KEY_TTL: Final = timedelta(minutes=15)
"""How long a Slack request identifier is remembered: longer than Slack's 5-minute signature
window, so a replayed signed request always finds it."""


class MeetingService:
    """The use cases behind /meet; one instance per process."""

    def __init__(
        self,
        *,
        settings: Settings,
        repo: Repository,
        meetings: HuaweiMeetingClient,
        directory: Directory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        identity = Identity(settings=settings, repo=repo, directory=directory)
        self._meetings = Meetings(
            settings=settings, repo=repo, meetings=meetings, identity=identity, clock=clock
        )
        self._admin = Admin(repo=repo, meetings=meetings, identity=identity)
        self._tracker = Tracker(repo=repo, meetings=meetings, identity=identity, clock=clock)
        self._dispatcher = Dispatcher(
            repo=repo, identity=identity, meetings=self._meetings, admin=self._admin, clock=clock
        )

    # -- commands --

    async def execute(self, invocation: Invocation, text: str) -> Outcome:
        """Run one `/meet` command as `invocation.user_id`."""
        return await self._dispatcher.execute(invocation, text)

    async def run(self, invocation: Invocation, command: cmd.Command) -> Outcome:
        """Run an already parsed command (buttons such as the mappings pager)."""
        return await self._dispatcher.run(invocation, command)

    async def first_time(self, scope: str, key: str) -> bool:
        """Whether this request identifier is new to every replica (see Repository.first_sight)."""
        return await self._repo.first_sight(scope=scope, key=key, ttl=REQUEST_KEY_TTL)

    # -- meetings --

    async def start_now(self, invocation: Invocation, topic: str | None) -> Outcome:
        """Create an instant meeting (the "Start now" button)."""
        return await self._meetings.start_now(invocation, topic)

    async def schedule(self, invocation: Invocation, request: cmd.Schedule) -> Outcome:
        """Create a scheduled meeting from an already validated request (the modal)."""
        return await self._meetings.schedule(invocation, request)

    async def confirm_reading(
        self, invocation: Invocation, request: cmd.Schedule | None
    ) -> Outcome:
        """Book the reading of an unclear time the user picked (None: its button did not read);
        checked again like a typed command."""
        return await self._dispatcher.confirm(invocation, request)

    async def create_anyway(
        self, invocation: Invocation, request: cmd.StartNow | cmd.Schedule | None
    ) -> Outcome:
        """Create what a Duplicate answer held back, the user having insisted ("Create another
        anyway"); checked again like a typed command (None: its button did not read)."""
        return await self._meetings.create_anyway(invocation, request)

    async def list_page(self, invocation: Invocation, page: int) -> Outcome:
        """Page `page` (from 0) of the user's `/meet list`."""
        return await self._meetings.list_page(invocation, page)

    async def cancel(self, invocation: Invocation, *, meeting_id: int) -> Outcome:
        """Cancel a meeting of this workspace (organizer or admin only)."""
        return await self._meetings.cancel(invocation, meeting_id=meeting_id)

    async def card_posted(
        self, meeting: MeetingRow, *, channel_id: str, message_ts: str, card_state: str
    ) -> None:
        """Record where a meeting's card was posted, so it can be updated later."""
        await self._meetings.card_posted(
            meeting, channel_id=channel_id, message_ts=message_ts, card_state=card_state
        )

    async def card_unpostable(self, meeting: MeetingRow) -> None:
        """The bot cannot post in the meeting's channel (private, DM): stop trying."""
        await self._meetings.card_unpostable(meeting)

    async def meetings_without_card(self, *, older_than: timedelta) -> list[MeetingRow]:
        """Meetings created at the vendor whose card never made it to Slack."""
        return await self._meetings.meetings_without_card(older_than=older_than)

    async def card_shown(self, meeting: MeetingRow) -> None:
        """Record that the meeting's card now shows its current state."""
        await self._meetings.card_shown(meeting)

    async def set_call(self, meeting: MeetingRow, call_id: str | None) -> MeetingRow:
        """Record the Slack call object on the meeting's card (None: that call has ended)."""
        return await self._meetings.set_call(meeting, call_id)

    # -- admin --

    async def app_settings(self, *, team_id: str) -> AppSettings:
        """What the setup form shows: the app ID, corp ID and mapping mode (never the key)."""
        return await self._admin.app_settings(team_id=team_id)

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
        return await self._admin.setup_app(
            invocation, app_id=app_id, app_key=app_key, corp_id=corp_id, mode=mode
        )

    async def record_event(self, *, team_id: str, event: str) -> None:
        """The app was removed from a workspace (uninstalled, bot token revoked): its owed
        messages are dropped with the reason and the event is noted in the audit log."""
        await self._admin.record_event(team_id=team_id, event=event)

    # -- live status --

    async def poll_status(self) -> list[StatusChange]:
        """Ask the vendor about every watched meeting and apply what changed."""
        return await self._tracker.poll_status()

    async def apply_push(self, push: MeetingPush) -> list[StatusChange]:
        """Apply a verified vendor event (started / end / conclude) like the poll would."""
        return await self._tracker.apply_push(push)

    async def people_online(self, meeting: MeetingRow) -> list[tuple[str, str]]:
        """Who is in the running meeting now, as (stable ID, display name) pairs."""
        return await self._tracker.people_online(meeting)
