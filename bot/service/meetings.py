"""Meetings from Slack: create (now, scheduled, recurring), cancel, list, and the record of
where each meeting's card is; plus the pure rules for recurrence words and occurrences."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from bot import commands as cmd
from bot.config import Settings
from bot.huawei.answers import Conference
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import MeetingServiceError, NotFound
from bot.huawei.models import AppCredentials, Attendee, MeetingSpec
from bot.huawei.recurrence import vendor_recurrence
from bot.rules import (
    DEFAULT_DURATION_MINUTES,
    DUPLICATE_WINDOW,
    LIST_LIMIT,
    MAX_TOPIC_LENGTH,
    PRIVATE_CARD,
    WEEKDAY_NAMES,
    MeetingState,
    is_duplicate,
    topic_problem,
)
from bot.service.deliveries import reminder_deliveries
from bot.service.identity import WHOAMI_PROBLEMS, Identity, NotConfigured, NotMapped, user_zone
from bot.service.outcomes import (
    Cancelled,
    Created,
    Duplicate,
    Failure,
    Listing,
    NotAllowed,
    Outcome,
    Problem,
    VendorFailure,
)
from bot.service.ports import Invocation, MeetingRow, Profile
from storage.errors import StorageError
from storage.repo import NewMeeting, Repository

__all__ = [
    "STORE_FAILED",
    "Meetings",
    "describe_recurrence",
    "occurrences_of",
    "recurrence_record",
]

log = logging.getLogger(__name__)

STORE_FAILED: Final = (
    "meetbot could not record the meeting, so it was cancelled again and nothing was "
    "created. Please try once more in a moment."
)

ANYWAY_UNREADABLE: Final = (
    "That button no longer reads as a meeting, so nothing was created. Please type the "
    "command again."
)


def describe_recurrence(rule: cmd.Recurrence) -> str:
    """Plain words for a recurrence rule, as cards show it."""
    match rule.frequency:
        case cmd.Frequency.DAILY:
            text = "every day"
        case cmd.Frequency.WEEKDAYS:
            text = "every weekday"
        case cmd.Frequency.MONTHLY:
            text = "every month"
        case cmd.Frequency.WEEKLY:
            days = " and ".join(WEEKDAY_NAMES[d] for d in rule.weekdays)
            text = f"every {days}" if days else "every week"
    return f"{text} until {rule.until.isoformat()}" if rule.until else text


def recurrence_record(rule: cmd.Recurrence) -> dict[str, object]:
    """A recurrence rule as stored with the meeting."""
    return {
        "frequency": rule.frequency.value,
        "weekdays": list(rule.weekdays),
        "until": rule.until.isoformat() if rule.until else None,
        "text": describe_recurrence(rule),
    }


def occurrences_of(conference: Conference, fallback: datetime) -> list[datetime]:
    """Start instants of every occurrence the vendor created (one for a single meeting)."""
    starts = [s.start for s in conference.sub_confs if s.start is not None]
    return starts or [conference.start or fallback]


class Meetings:
    """Creating, cancelling and listing meetings, and recording their cards."""

    def __init__(
        self,
        *,
        settings: Settings,
        repo: Repository,
        meetings: HuaweiMeetingClient,
        identity: Identity,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._repo = repo
        self._meetings = meetings
        self._identity = identity
        self._clock = clock

    async def start_now(
        self, invocation: Invocation, topic: str | None, *, force: bool = False
    ) -> Outcome:
        """Create an instant meeting (the "Start now" button; `force`: "Create another
        anyway", past the duplicate guard)."""
        if topic is not None and topic_problem(topic) is not None:
            # The button carries what was typed; the command's own limit still applies.
            return Problem(
                f"A topic can have at most {MAX_TOPIC_LENGTH} characters; "
                f"this one has {len(topic)}.",
                "/meet now Weekly sync",
            )
        profile = await self._identity.profile(invocation.team_id, invocation.user_id)
        return await self.create(invocation, profile, cmd.StartNow(topic=topic), force=force)

    async def schedule(
        self, invocation: Invocation, request: cmd.Schedule, *, force: bool = False
    ) -> Outcome:
        """Create a scheduled meeting from an already validated request (the modal; `force`:
        "Create another anyway", past the duplicate guard)."""
        profile = await self._identity.profile(invocation.team_id, invocation.user_id)
        return await self.create(invocation, profile, request, force=force)

    async def create(
        self,
        invocation: Invocation,
        profile: Profile,
        command: cmd.StartNow | cmd.Schedule,
        *,
        force: bool = False,
    ) -> Outcome:
        """Book the meeting at the vendor, then record it with its reminders; if recording
        fails, cancel the booking again so nothing is left behind. Unless `force`, a repeat of
        a meeting the same person just created here (bot.rules.is_duplicate) creates nothing
        and answers Duplicate."""
        team_id = invocation.team_id
        workspace = await self._repo.ensure_workspace(team_id=team_id)
        app = await self._identity.app(team_id)
        if isinstance(app, NotConfigured):
            return app
        organizer = await self._identity.third_party(team_id, workspace.mapping_mode, profile)
        if isinstance(organizer, NotMapped):
            return organizer
        now = self._clock()
        tz = user_zone(profile)
        invitees: list[Profile] = []
        attendees: list[Attendee] = []
        if isinstance(command, cmd.Schedule):
            for user_id in command.invitees:
                invitee = await self._identity.invitee(team_id, user_id)
                if invitee is None or invitee.is_bot:
                    return Problem(
                        f"I can't invite {user_id}: not a person in this workspace.",
                        "/meet Design review tomorrow 3pm with @alice @bob",
                    )
                identity = await self._identity.third_party(
                    team_id, workspace.mapping_mode, invitee
                )
                if isinstance(identity, NotMapped):
                    return Problem(
                        f"I can't invite {user_id} yet: they have no meeting user ID "
                        f"({WHOAMI_PROBLEMS[identity.reason]}) An admin can map them.",
                        "/meet admin map @person <meeting user ID>",
                    )
                invitees.append(invitee)
                attendees.append(Attendee(account_id=identity, name=invitee.name))
            topic = command.topic
            spec = MeetingSpec(
                subject=topic,
                start=command.start,
                length_minutes=command.duration_minutes,
                attendees=tuple(attendees),
                recurrence=(
                    vendor_recurrence(command.recurrence, start=command.start, tz=tz)
                    if command.recurrence
                    else None
                ),
            )
        else:
            topic = command.topic or f"{profile.name}'s meeting"
            spec = MeetingSpec(subject=topic, length_minutes=DEFAULT_DURATION_MINUTES)

        if not force and (earlier := await self._earlier_same(invocation, spec, now)) is not None:
            return Duplicate(earlier, command)
        try:
            conference = await self._meetings.create_meeting(app, organizer, spec)
        except MeetingServiceError as exc:
            log.warning("create failed for team %s: %s", team_id, exc.error_code)
            return VendorFailure(exc.user_message)

        start = conference.start or spec.start or now
        occurrences = occurrences_of(conference, start)
        offsets = (
            self._settings.reminder_minutes
            if workspace.reminder_minutes is None
            else workspace.reminder_minutes
        )
        new = NewMeeting(
            conference_id=conference.conference_id,
            organizer_slack_id=profile.user_id,
            organizer_third_party_id=organizer,
            channel_id=invocation.channel_id,
            topic=topic,
            start_at=start,
            duration_minutes=spec.length_minutes,
            tz_name=str(tz),
            is_instant=spec.start is None,
            recurrence=(
                recurrence_record(command.recurrence)
                if isinstance(command, cmd.Schedule) and command.recurrence
                else None
            ),
            guest_join_url=conference.guest_join_uri or "",
            invitees=tuple(p.user_id for p in invitees),
            state=MeetingState.LIVE if spec.start is None else MeetingState.SCHEDULED,
            occurrences=tuple(occurrences) if len(occurrences) > 1 else (),
        )
        deliveries = (
            []
            if spec.start is None
            else reminder_deliveries(
                occurrences,
                offsets=offsets,
                now=now,
                channel_id=workspace.reminder_channel_id,
            )
        )
        try:
            meeting = await self._repo.add_meeting(
                team_id=team_id, meeting=new, deliveries=deliveries
            )
        except StorageError:
            # Leave nothing behind: the vendor booking would otherwise be orphaned.
            log.exception("storing meeting %s failed; cancelling it", conference.conference_id)
            await self._undo_create(app, organizer, conference)
            return Failure(STORE_FAILED)
        return Created(
            meeting=meeting,
            host_url=conference.chair_join_uri,
            host_password=conference.host_password,
            invitees=tuple(invitees),
        )

    async def _earlier_same(
        self, invocation: Invocation, spec: MeetingSpec, now: datetime
    ) -> MeetingRow | None:
        """The meeting this request repeats (bot.rules.is_duplicate), if any."""
        start = spec.start or now
        recent = await self._repo.recent_meetings_of(
            team_id=invocation.team_id,
            organizer_slack_id=invocation.user_id,
            channel_id=invocation.channel_id,
            created_since=now - DUPLICATE_WINDOW,
        )
        return next(
            (
                m
                for m in recent
                if is_duplicate(
                    topic=spec.subject,
                    start=start,
                    end=start + timedelta(minutes=spec.length_minutes),
                    earlier_topic=m.topic,
                    earlier_start=m.start_at,
                    earlier_end=m.end_at,
                    earlier_created=m.created_at,
                    now=now,
                )
            ),
            None,
        )

    async def _undo_create(self, app: AppCredentials, user_id: str, conference: Conference) -> None:
        try:
            await self._meetings.cancel_meeting(
                app,
                user_id,
                conference.conference_id,
                end_if_running=True,
                recurring=conference.is_recurring,
            )
        except MeetingServiceError:
            log.exception("could not cancel orphaned meeting %s", conference.conference_id)

    async def upcoming(self, invocation: Invocation, profile: Profile, page: int = 0) -> Listing:
        """One page of the upcoming meetings the user organizes or is invited to in this
        workspace (`/meet list`), with those they may cancel (their own; all, for an admin)."""
        page = max(page, 0)
        found, total = await self._repo.upcoming_for_person(
            team_id=invocation.team_id,
            slack_user_id=profile.user_id,
            now=self._clock(),
            limit=LIST_LIMIT,
            offset=page * LIST_LIMIT,
        )
        # What the list offers; cancelling checks the rights again, with Slack, when pressed.
        admin = self._identity.is_admin(profile, invocation.team_id)
        cancellable = frozenset(
            m.id for m in found if admin or m.organizer_slack_id == profile.user_id
        )
        return Listing(tuple(found), total=total, page=page, cancellable=cancellable)

    async def list_page(self, invocation: Invocation, page: int) -> Listing:
        """Another page of `/meet list` (its pager buttons)."""
        profile = await self._identity.profile(invocation.team_id, invocation.user_id)
        return await self.upcoming(invocation, profile, page)

    async def create_anyway(
        self, invocation: Invocation, request: cmd.StartNow | cmd.Schedule | None
    ) -> Outcome:
        """ "Create another anyway" after a Duplicate: the request comes back from the user (a
        button's value; None if it did not read), so every rule is checked again, now; only
        the duplicate guard is passed."""
        match request:
            case None:
                return Problem(ANYWAY_UNREADABLE, "/meet Standup tomorrow 9:30 for 15m")
            case cmd.StartNow(topic=topic):
                return await self.start_now(invocation, topic, force=True)
            case cmd.Schedule():
                if (error := cmd.check_schedule(request, now=self._clock())) is not None:
                    return Problem(error.problem, error.example)
                return await self.schedule(invocation, request, force=True)

    async def cancel(self, invocation: Invocation, *, meeting_id: int) -> Outcome:
        """Cancel a meeting of this workspace by its meetbot ID (the card's button)."""
        profile = await self._identity.profile(invocation.team_id, invocation.user_id)
        meeting = await self._repo.get_meeting(team_id=invocation.team_id, meeting_id=meeting_id)
        if meeting is None:
            return Problem("That meeting no longer exists in this workspace.", "/meet list")
        return await self._cancel(invocation, profile, meeting)

    async def cancel_conference(
        self, invocation: Invocation, profile: Profile, conference_id: str
    ) -> Outcome:
        """Cancel a meeting of this workspace by its conference ID (`/meet cancel <id>`)."""
        meeting = await self._repo.get_meeting_by_conference(
            team_id=invocation.team_id, conference_id=conference_id
        )
        if meeting is None:
            return Problem(
                f"There is no meeting {conference_id} in this workspace.",
                "/meet list  (shows your meetings and their IDs)",
            )
        return await self._cancel(invocation, profile, meeting)

    async def _cancel(
        self, invocation: Invocation, profile: Profile, meeting: MeetingRow
    ) -> Outcome:
        """Organizer or admin only: cancel at the vendor, then withdraw what it still owes."""
        if meeting.organizer_slack_id != profile.user_id and not (
            await self._identity.is_admin_now(invocation)
        ):
            return NotAllowed("cancel this meeting")
        if meeting.state is MeetingState.CANCELLED:
            return Problem("That meeting was already cancelled.", "/meet list")
        app = await self._identity.app(invocation.team_id)
        if isinstance(app, NotConfigured):
            return app
        try:
            await self._meetings.cancel_meeting(
                app,
                meeting.organizer_third_party_id,
                meeting.conference_id,
                end_if_running=True,
                recurring=meeting.recurrence is not None,
            )
        except NotFound:
            pass  # already gone at the vendor (ended or cancelled elsewhere): finish our side
        except MeetingServiceError as exc:
            return VendorFailure(exc.user_message)
        cancelled = await self._repo.cancel_meeting(
            team_id=invocation.team_id, meeting_id=meeting.id, actor=profile.user_id
        )
        return Cancelled(cancelled or meeting, by=profile.user_id)

    # -- the meeting's card --

    async def card_posted(
        self, meeting: MeetingRow, *, channel_id: str, message_ts: str, card_state: str
    ) -> None:
        """Record where a meeting's card was posted, so it can be updated later."""
        await self._repo.set_card(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            channel_id=channel_id,
            message_ts=message_ts,
            card_state=card_state,
        )

    async def card_unpostable(self, meeting: MeetingRow) -> None:
        """The bot cannot post in the meeting's channel (private, DM): stop trying.

        The organizer was shown the card privately; an empty ts marks "no channel message".
        """
        await self._repo.set_card(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            channel_id=meeting.channel_id or "",
            message_ts="",
            card_state=PRIVATE_CARD,
        )

    async def meetings_without_card(self, *, older_than: timedelta) -> list[MeetingRow]:
        """Meetings created at the vendor whose card never made it to Slack."""
        return await self._repo.all_workspaces_meetings_without_card(
            created_before=self._clock() - older_than
        )

    async def card_shown(self, meeting: MeetingRow) -> None:
        """Record that the meeting's card now shows its current state."""
        await self._repo.set_card_state(
            team_id=meeting.team_id, meeting_id=meeting.id, card_state=meeting.state.value
        )

    async def set_call(self, meeting: MeetingRow, call_id: str | None) -> MeetingRow:
        """Record the Slack call object on the meeting's card (None: that call has ended)."""
        updated = await self._repo.set_call(
            team_id=meeting.team_id, meeting_id=meeting.id, call_id=call_id
        )
        return updated or meeting
