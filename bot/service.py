"""meetbot's use cases: what `/meet` does, independent of the chat platform.

The service talks only to its ports: the meeting service (`HuaweiMeetingClient`), the
database (`Repository`) and a `Directory` that tells who a chat user is. It returns typed
outcomes; the chat side renders and delivers them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr

from bot import commands as cmd
from bot.config import Settings
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import MeetingServiceError, NotFound
from bot.huawei.models import (
    AppCredentials,
    Attendee,
    Conference,
    Cycle,
    MeetingSpec,
    Recurrence,
)
from bot.huawei.timezones import vendor_zone_id, vendor_zone_info
from bot.huawei.webhook import MeetingPush
from storage.errors import StorageError
from storage.models import MappingMode, MeetingState
from storage.repo import (
    REMINDER_PREFIX,
    ClaimedDelivery,
    DeliveryRow,
    MeetingRow,
    NewDelivery,
    NewMeeting,
    Repository,
    SentPost,
)
from storage.secrets import SecretDecryptError

__all__ = [
    "AdminDone",
    "AppSettings",
    "Cancelled",
    "Created",
    "Decision",
    "Directory",
    "Failure",
    "Fate",
    "Help",
    "Listing",
    "MappingPage",
    "MeetingService",
    "NoTime",
    "NotAllowed",
    "NotConfigured",
    "NotMapped",
    "NotMappedReason",
    "OpenAdminSetup",
    "OpenSchedule",
    "Outcome",
    "Problem",
    "Profile",
    "StatusChange",
    "StatusKind",
    "VendorFailure",
    "WhoAmI",
    "decide_status",
    "delivery_fate",
    "pick_session",
    "superseded",
    "third_party_id",
]

log = logging.getLogger(__name__)

MAPPING_MODES: Final = ("email", "slack", "explicit")
MAPPINGS_PER_PAGE: Final = 20
LIST_LIMIT: Final = 20
"""Recurring meetings run up to a year; the vendor itself stops at 50 occurrences."""
STARTED: Final = "started"
ENDED: Final = "ended"
HISTORY_GRACE: Final = timedelta(minutes=10)
"""A meeting gone from the online list but not (yet) in history is declared ended, at the
time we noticed, only this long after its scheduled end: history can lag."""
HISTORY_SLACK: Final = timedelta(minutes=1)
"""History times have minute precision."""
WATCH_PAGE: Final = 1000
POLL_CONCURRENCY: Final = 8
REQUEST_KEY_TTL: Final = timedelta(minutes=15)
"""How long a Slack request identifier is remembered: longer than Slack's 5-minute signature
window, so a replayed signed request always finds it."""
"""Apps (vendor enterprises) polled at once."""


# --- ports and values ----------------------------------------------------------------------


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


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Created:
    """A meeting exists at the vendor and in the database; its card is still to be posted."""

    meeting: MeetingRow
    host_url: str | None
    host_password: str | None
    invitees: tuple[Profile, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """The user's input was wrong: what, and a correct example."""

    problem: str
    example: str


@dataclass(frozen=True, slots=True)
class NoTime:
    """`/meet <topic>` without a time: offer to start now, create nothing."""

    topic: str


class NotMappedReason(StrEnum):
    """Why a user has no meeting identity (the chat side words the advice)."""

    EXPLICIT = "explicit"
    NO_EMAIL = "no_email"


KEY_UNREADABLE: Final = (
    "The meeting-service app key stored for this workspace can no longer be read: meetbot's "
    "secret key (MEETBOT_SECRET_KEY) changed since it was saved."
)
STORE_FAILED: Final = (
    "meetbot could not record the meeting, so it was cancelled again and nothing was "
    "created. Please try once more in a moment."
)
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


@dataclass(frozen=True, slots=True)
class NotAllowed:
    """The user may not do `action`."""

    action: str


@dataclass(frozen=True, slots=True)
class VendorFailure:
    """The meeting service refused or failed; `user_message` is plain language."""

    user_message: str


@dataclass(frozen=True, slots=True)
class Failure:
    """meetbot itself failed and undid what it had begun; `user_message` says so."""

    user_message: str


@dataclass(frozen=True, slots=True)
class Listing:
    """The user's upcoming meetings in this workspace."""

    meetings: tuple[MeetingRow, ...]


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A meeting was cancelled at the vendor and its pending messages withdrawn."""

    meeting: MeetingRow
    by: str


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """The user's meeting identity, or why there is none."""

    user_id: str
    third_party_id: str | None
    mode: str
    problem: str | None


@dataclass(frozen=True, slots=True)
class Help:
    """The help text (admins see the admin commands)."""

    is_admin: bool


@dataclass(frozen=True, slots=True)
class MappingPage:
    """One page of explicit mappings."""

    rows: tuple[tuple[str, str], ...]
    page: int
    pages: int
    mode: str


@dataclass(frozen=True, slots=True)
class AdminDone:
    """An admin change was made; `text` confirms it (about `user_id`, when set)."""

    text: str
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class AppSettings:
    """The workspace's meeting-service setup as the admin form shows it."""

    app_id: str
    corp_id: str
    mapping_mode: str
    has_key: bool
    key_unreadable: bool = False
    """A key is stored but the server's secret key cannot open it: ask for it again."""


@dataclass(frozen=True, slots=True)
class OpenSchedule:
    """Open the scheduling modal."""

    topic: str = ""


@dataclass(frozen=True, slots=True)
class OpenAdminSetup:
    """Open the admin setup modal (admins only)."""


Outcome = (
    Created
    | Problem
    | NoTime
    | NotMapped
    | NotConfigured
    | NotAllowed
    | VendorFailure
    | Failure
    | Listing
    | Cancelled
    | WhoAmI
    | Help
    | MappingPage
    | AdminDone
    | OpenSchedule
    | OpenAdminSetup
)


# --- pure helpers --------------------------------------------------------------------------


def third_party_id(
    *, mode: str, team_id: str, profile: Profile, explicit: str | None
) -> str | NotMapped:
    """The user's third-party ID in the workspace's mapping mode; an explicit map always wins."""
    if explicit:
        return explicit
    match mode:
        case "slack":
            return f"{team_id}-{profile.user_id}"
        case "email":
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


def vendor_recurrence(rule: cmd.Recurrence, *, start: datetime, tz: ZoneInfo) -> Recurrence:
    """Our recurrence rule as the vendor's cycle parameters (local dates in the vendor zone)."""
    zone_id = vendor_zone_id(tz)
    local = start.astimezone(vendor_zone_info(zone_id))
    first = local.date()
    until = rule.until or (first + cmd.RECURRENCE_HORIZON)
    match rule.frequency:
        case cmd.Frequency.DAILY:
            return Recurrence(
                cycle=Cycle.DAY, start_date=first, end_date=until, time_zone_id=zone_id
            )
        case cmd.Frequency.MONTHLY:
            return Recurrence(
                cycle=Cycle.MONTH,
                points=(first.day,),
                start_date=first,
                end_date=until,
                time_zone_id=zone_id,
            )
        case cmd.Frequency.WEEKDAYS | cmd.Frequency.WEEKLY:
            days = (0, 1, 2, 3, 4) if rule.frequency is cmd.Frequency.WEEKDAYS else rule.weekdays
            # Ours count Monday=0; the vendor's count Sunday=0.
            points = tuple(sorted({(d + 1) % 7 for d in days or (first.weekday(),)}))
            return Recurrence(
                cycle=Cycle.WEEK,
                points=points,
                start_date=first,
                end_date=until,
                time_zone_id=zone_id,
            )


def describe_recurrence(rule: cmd.Recurrence) -> str:
    """Plain words for a recurrence rule, as cards show it."""
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    match rule.frequency:
        case cmd.Frequency.DAILY:
            text = "every day"
        case cmd.Frequency.WEEKDAYS:
            text = "every weekday"
        case cmd.Frequency.MONTHLY:
            text = "every month"
        case cmd.Frequency.WEEKLY:
            days = " and ".join(names[d] for d in rule.weekdays)
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


def reminder_deliveries(
    occurrences: Sequence[datetime],
    *,
    offsets: Sequence[int],
    now: datetime,
    channel_id: str | None = None,
) -> list[NewDelivery]:
    """One reminder per occurrence and offset that is still ahead of `now`.

    `channel_id`: the workspace's reminder channel (`/meet admin channel`), where these
    reminders go instead of the meeting's own channel.
    """
    payload = {"channel": channel_id} if channel_id else None
    return [
        NewDelivery(occurrence=start, kind=f"reminder:{minutes}", due_at=due, payload=payload)
        for start in occurrences
        for minutes in offsets
        if (due := start - timedelta(minutes=minutes)) > now
    ]


def occurrences_of(conference: Conference, fallback: datetime) -> list[datetime]:
    """Start instants of every occurrence the vendor created (one for a single meeting)."""
    starts = [s.start for s in conference.sub_confs if s.start is not None]
    return starts or [conference.start or fallback]


# --- live status (pure) --------------------------------------------------------------------


class StatusKind(StrEnum):
    """What changed about a meeting's live state."""

    STARTED = "started"
    ENDED = "ended"
    NOT_HELD = "not_held"
    """Its scheduled end passed and it never started: it ends quietly (no thread reply)."""
    PARTICIPANTS = "participants"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the vendor's answer means for one meeting (see `decide_status`)."""

    kind: StatusKind
    started_at: datetime | None = None
    ended_at: datetime | None = None
    participants: int | None = None
    also_started: bool = False
    """ENDED for a meeting we never saw live (it started and ended between two looks)."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change applied to a meeting; `meeting` is the row afterwards (a recurring meeting has
    already moved on to its next occurrence). Listeners (the card, Slack Calls) react to it."""

    kind: StatusKind
    meeting: MeetingRow
    occurrence: datetime
    participants: int | None = None
    lasted_minutes: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def lasted_minutes(started_at: datetime, ended_at: datetime) -> int:
    """Whole minutes between two vendor times (never negative)."""
    return max(0, int((ended_at - started_at).total_seconds() // 60))


def pick_session(meeting: MeetingRow, records: Sequence[Conference]) -> Conference | None:
    """The history record of the meeting's current session: the latest one of its conference
    that ended after we last knew it was not over (earlier occurrences ended before that)."""
    floor = (
        meeting.started_at
        if meeting.state is MeetingState.LIVE and meeting.started_at
        else (meeting.watch_from or meeting.start_at)
    ) - HISTORY_SLACK
    found = [
        r
        for r in records
        if r.conference_id == meeting.conference_id
        and r.start is not None
        and r.end is not None
        and r.end >= floor
    ]
    return max(found, key=lambda r: r.start or meeting.start_at, default=None)


def decide_status(
    meeting: MeetingRow,
    *,
    online: Conference | None,
    record: Conference | None,
    now: datetime,
) -> Decision | None:
    """What the vendor's online list (`online`: the meeting's entry, if running) and history
    (`record`: its ended session, see `pick_session`) mean for `meeting`; None: no change."""
    if meeting.state is MeetingState.SCHEDULED:
        if online is not None:
            return Decision(
                StatusKind.STARTED, started_at=now, participants=online.online_attendee_amount
            )
        if record is not None and record.start and record.end:
            return Decision(
                StatusKind.ENDED, started_at=record.start, ended_at=record.end, also_started=True
            )
        if now >= meeting.end_at:
            return Decision(StatusKind.NOT_HELD)
        return None
    if meeting.state is not MeetingState.LIVE:
        return None
    if online is not None:
        count = online.online_attendee_amount
        if count is not None and count != meeting.participant_count:
            return Decision(StatusKind.PARTICIPANTS, participants=count)
        return None
    if record is not None and record.start and record.end:
        return Decision(StatusKind.ENDED, started_at=record.start, ended_at=record.end)
    began = meeting.started_at or meeting.start_at
    overdue = max(meeting.end_at, began + timedelta(minutes=meeting.duration_minutes))
    if now >= overdue + HISTORY_GRACE:
        return Decision(StatusKind.ENDED, started_at=began, ended_at=now)
    return None


class Fate(StrEnum):
    """What the tick does with a claimed delivery."""

    POST = "post"
    DROP = "drop"
    """Never post: withdraw it (the occurrence is over, the meeting cancelled)."""
    WAIT = "wait"
    """Not yet: the card it replies under is not posted yet."""


def occurrence_over(meeting: MeetingRow, occurrence: datetime, now: datetime) -> bool:
    """Whether the occurrence starting at `occurrence` has ended (or will never happen)."""
    if meeting.state in (MeetingState.ENDED, MeetingState.CANCELLED):
        return True
    if occurrence < meeting.start_at:
        return True  # a recurring meeting has moved on past it
    if occurrence > meeting.start_at or meeting.state is MeetingState.LIVE:
        return False
    return now >= occurrence + timedelta(minutes=meeting.duration_minutes)


def superseded(deliveries: Sequence[DeliveryRow]) -> set[int]:
    """Ids of reminders made pointless by a later reminder of the same occurrence that is
    due as well (the bot was down across both): only the latest goes out, late."""
    latest: dict[tuple[str, int, datetime], DeliveryRow] = {}
    for d in deliveries:
        if d.kind.startswith(REMINDER_PREFIX):
            key = (d.team_id, d.meeting_id, d.occurrence)
            if key not in latest or d.due_at > latest[key].due_at:
                latest[key] = d
    keep = {d.id for d in latest.values()}
    return {d.id for d in deliveries if d.kind.startswith(REMINDER_PREFIX) and d.id not in keep}


def delivery_fate(delivery: DeliveryRow, meeting: MeetingRow, now: datetime) -> Fate:
    """Reminders go out, late ones too, while their occurrence has not ended; afterwards (or
    once cancelled) they are dropped. Start/end replies wait for the card they thread under."""
    if delivery.kind.startswith(REMINDER_PREFIX):
        if not meeting.channel_id or occurrence_over(meeting, delivery.occurrence, now):
            return Fate.DROP
        return Fate.POST
    if meeting.message_ts is None:
        return Fate.WAIT
    if not meeting.message_ts or not meeting.channel_id:
        return Fate.DROP  # the card could only be shown privately: no thread to reply in
    return Fate.POST


# --- the service ---------------------------------------------------------------------------


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
        self._settings = settings
        self._repo = repo
        self._meetings = meetings
        self._directory = directory
        self._clock = clock
        self._default_app = (
            AppCredentials(
                app_id=settings.hcm_app_id,
                app_key=settings.hcm_app_key,
                corp_id=settings.hcm_corp_id,
            )
            if settings.hcm_app_id and settings.hcm_app_key
            else None
        )

    # -- entry points --

    async def execute(self, invocation: Invocation, text: str) -> Outcome:
        """Run one `/meet` command as `invocation.user_id`."""
        profile = await self._profile(invocation.team_id, invocation.user_id)
        tz = user_zone(profile)
        # Off the event loop: a hostile line at the length limit costs ~25 ms of dateparser.
        parsed = await asyncio.to_thread(cmd.parse_command, text, now=self._clock(), tz=tz)
        if isinstance(parsed, cmd.CommandError):
            return Problem(parsed.problem, parsed.example)
        return await self._dispatch(invocation, profile, parsed)

    async def run(self, invocation: Invocation, command: cmd.Command) -> Outcome:
        """Run an already parsed command (buttons such as the mappings pager)."""
        profile = await self._profile(invocation.team_id, invocation.user_id)
        return await self._dispatch(invocation, profile, command)

    async def first_time(self, scope: str, key: str) -> bool:
        """Whether this request identifier is new to every replica (see Repository.first_sight)."""
        return await self._repo.first_sight(scope=scope, key=key, ttl=REQUEST_KEY_TTL)

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
        if not await self._is_admin_now(invocation):
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

    async def start_now(self, invocation: Invocation, topic: str | None) -> Outcome:
        """Create an instant meeting (the "Start now" button)."""
        if topic is not None and len(topic) > cmd.MAX_TOPIC_LENGTH:
            # The button carries what was typed; the command's own limit still applies.
            return Problem(
                f"A topic can have at most {cmd.MAX_TOPIC_LENGTH} characters; "
                f"this one has {len(topic)}.",
                "/meet now Weekly sync",
            )
        profile = await self._profile(invocation.team_id, invocation.user_id)
        return await self._create(invocation, profile, cmd.StartNow(topic=topic))

    async def schedule(self, invocation: Invocation, request: cmd.Schedule) -> Outcome:
        """Create a scheduled meeting from an already validated request (the modal)."""
        profile = await self._profile(invocation.team_id, invocation.user_id)
        return await self._create(invocation, profile, request)

    async def cancel(self, invocation: Invocation, *, meeting_id: int) -> Outcome:
        """Cancel a meeting of this workspace (organizer or admin only)."""
        profile = await self._profile(invocation.team_id, invocation.user_id)
        meeting = await self._repo.get_meeting(team_id=invocation.team_id, meeting_id=meeting_id)
        if meeting is None:
            return Problem("That meeting no longer exists in this workspace.", "/meet list")
        return await self._cancel(invocation, profile, meeting)

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
            card_state="private",
        )

    async def meetings_without_card(self, *, older_than: timedelta) -> list[MeetingRow]:
        """Meetings created at the vendor whose card never made it to Slack."""
        return await self._repo.all_workspaces_meetings_without_card(
            created_before=self._clock() - older_than
        )

    # -- live status --

    async def poll_status(self) -> list[StatusChange]:
        """Ask the vendor about every watched meeting and apply what changed.

        Per app (workspaces sharing one app share the calls): one paged online list with the
        admin token, and one history query only when a meeting we thought live has left the
        list or a scheduled one is past its end. A failing app is skipped until next time.
        """
        now = self._clock()
        watched: list[MeetingRow] = []
        after = ("", 0)  # keyset paging by (team_id, id) from the start
        while True:
            page = await self._repo.all_workspaces_meetings_to_poll(
                watching_at=now, after=after, limit=WATCH_PAGE
            )
            watched.extend(page)
            if len(page) < WATCH_PAGE:
                break
            after = (page[-1].team_id, page[-1].id)
        by_app: dict[tuple[str, str | None], tuple[AppCredentials, list[MeetingRow]]] = {}
        for team_id in dict.fromkeys(m.team_id for m in watched):
            app = await self._app(team_id)  # one unreadable key skips only its own workspace
            if isinstance(app, NotConfigured):
                continue
            entry = by_app.setdefault((app.app_id, app.corp_id), (app, []))
            entry[1].extend(m for m in watched if m.team_id == team_id)
        gate = asyncio.Semaphore(POLL_CONCURRENCY)

        async def one(app: AppCredentials, meetings: list[MeetingRow]) -> list[StatusChange]:
            async with gate:
                try:
                    return await self._poll_app(app, meetings, now)
                except MeetingServiceError as exc:
                    log.warning("status poll of app %s failed: %s", app.app_id, exc.error_code)
                    return []
                except Exception:  # isolated: the other apps' meetings are still followed
                    log.exception("status poll of app %s failed", app.app_id)
                    return []

        results = await asyncio.gather(*(one(a, ms) for a, ms in by_app.values()))
        return [change for changes in results for change in changes]

    async def _poll_app(
        self, app: AppCredentials, meetings: list[MeetingRow], now: datetime
    ) -> list[StatusChange]:
        online = {c.conference_id: c for c in await self._meetings.list_online_meetings(app, None)}
        unsure = [
            m
            for m in meetings
            if m.conference_id not in online and (m.state is MeetingState.LIVE or now >= m.end_at)
        ]
        unsure_ids = {m.id for m in unsure}
        records: list[Conference] = []
        if unsure:
            since = min(
                min(m.started_at or m.start_at, m.start_at)
                - timedelta(minutes=m.duration_minutes)
                - HISTORY_GRACE
                for m in unsure
            )
            records = await self._meetings.list_history(
                app, None, since=since, until=now + HISTORY_GRACE, query_all=True
            )
        by_conference: dict[str, list[Conference]] = {}
        for record in records:
            by_conference.setdefault(record.conference_id, []).append(record)
        changes: list[StatusChange] = []
        for meeting in meetings:
            decision = decide_status(
                meeting,
                online=online.get(meeting.conference_id),
                record=(
                    pick_session(meeting, by_conference.get(meeting.conference_id, []))
                    if meeting.id in unsure_ids
                    else None
                ),
                now=now,
            )
            if decision is not None:
                change = await self._apply(meeting, decision, now)
                if change is not None:
                    changes.append(change)
        return changes

    async def apply_push(self, push: MeetingPush) -> list[StatusChange]:
        """Apply a verified vendor event (started / end / conclude) like the poll would.

        The push names the app and the conference ID; every open meeting with that ID in a
        workspace using that app is affected (another app's conference IDs are its own).
        """
        if push.meeting_id is None:
            return []
        now = self._clock()
        changes: list[StatusChange] = []
        found = await self._repo.all_workspaces_meetings_to_poll(
            conference_id=push.meeting_id, limit=WATCH_PAGE
        )
        for meeting in await self._of_app(found, push.app_id):
            decision: Decision | None = None
            if push.event == "meeting.started" and meeting.state is MeetingState.SCHEDULED:
                decision = Decision(StatusKind.STARTED, started_at=push.event_time)
            elif push.event in ("meeting.end", "meeting.conclude") and (
                meeting.state is MeetingState.LIVE
            ):
                decision = Decision(
                    StatusKind.ENDED,
                    started_at=meeting.started_at or meeting.start_at,
                    ended_at=push.event_time,
                )
            if decision is not None:
                change = await self._apply(meeting, decision, now)
                if change is not None:
                    changes.append(change)
        return changes

    async def _of_app(self, meetings: list[MeetingRow], app_id: str) -> list[MeetingRow]:
        """The meetings of workspaces whose meeting-service app is `app_id`."""
        apps = {team: await self._app(team) for team in {m.team_id for m in meetings}}
        return [
            m
            for m in meetings
            if isinstance(app := apps[m.team_id], AppCredentials) and app.app_id == app_id
        ]

    async def _apply(
        self, meeting: MeetingRow, decision: Decision, now: datetime
    ) -> StatusChange | None:
        """Record a decision and enqueue what it owes, in one transaction (compare-and-set:
        another replica that saw the same change first wins and this returns None)."""
        occurrence = meeting.start_at
        if decision.kind is StatusKind.PARTICIPANTS and decision.participants is not None:
            row = await self._repo.set_participant_count(
                team_id=meeting.team_id, meeting_id=meeting.id, count=decision.participants
            )
            if row is None:
                return None
            return StatusChange(decision.kind, row, occurrence, participants=decision.participants)
        owed: list[NewDelivery] = []
        lasted: int | None = None
        # An instant meeting's card already says it started.
        if (decision.kind is StatusKind.STARTED or decision.also_started) and not (
            meeting.is_instant
        ):
            owed.append(
                NewDelivery(
                    occurrence,
                    STARTED,
                    now,
                    payload={"participants": decision.participants},
                )
            )
        if decision.kind is StatusKind.ENDED and decision.started_at and decision.ended_at:
            lasted = lasted_minutes(decision.started_at, decision.ended_at)
            owed.append(NewDelivery(occurrence, ENDED, now, payload={"lasted_minutes": lasted}))
        over = decision.kind in (StatusKind.ENDED, StatusKind.NOT_HELD)
        row = await self._repo.transition_meeting(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            expect_state=meeting.state,
            expect_start=occurrence,
            state=MeetingState.LIVE if decision.kind is StatusKind.STARTED else MeetingState.ENDED,
            started_at=decision.started_at,
            ended_at=decision.ended_at,
            participant_count=decision.participants,
            next_start=meeting.next_occurrence() if over else None,
            deliveries=owed,
            withdraw_reminders=over,
        )
        if row is None:
            return None
        return StatusChange(
            decision.kind,
            row,
            occurrence,
            participants=decision.participants,
            lasted_minutes=lasted,
            started_at=decision.started_at,
            ended_at=decision.ended_at,
        )

    # -- deliveries (the scheduler's job queue; see storage.repo for the guarantees) --

    async def claim_deliveries(
        self, *, worker_id: str, lease_seconds: float, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease due messages to `worker_id`, oldest first."""
        return await self._repo.claim_due(
            now=self._clock(), worker_id=worker_id, lease_seconds=lease_seconds, limit=limit
        )

    async def deliveries_posting(
        self, deliveries: Sequence[DeliveryRow], *, worker_id: str
    ) -> None:
        """Mark claimed messages as about to be posted (see `Repository.mark_posting`)."""
        by_team: dict[str, list[int]] = {}
        for d in deliveries:
            by_team.setdefault(d.team_id, []).append(d.id)
        for team_id, ids in by_team.items():
            await self._repo.mark_posting(
                team_id=team_id, delivery_ids=ids, worker_id=worker_id, now=self._clock()
            )

    async def delivery_posting(
        self, delivery: DeliveryRow, *, worker_id: str, lease_seconds: float
    ) -> datetime | None:
        """Renew the claim right before posting; the lease end, or None if it was lost."""
        return await self._repo.renew_claim(
            team_id=delivery.team_id,
            delivery_id=delivery.id,
            worker_id=worker_id,
            now=self._clock(),
            lease_seconds=lease_seconds,
        )

    async def delivery_sent(self, delivery: DeliveryRow, *, worker_id: str, slack_ts: str) -> bool:
        """Record the Slack ts of a posted message."""
        return await self._repo.mark_sent(
            team_id=delivery.team_id,
            delivery_id=delivery.id,
            worker_id=worker_id,
            slack_ts=slack_ts,
            sent_at=self._clock(),
        )

    async def deliveries_sent(
        self, posted: Sequence[tuple[DeliveryRow, str]], *, worker_id: str
    ) -> set[int]:
        """Record many posted messages (delivery, Slack ts) in one write; the ids recorded."""
        by_team: dict[str, list[SentPost]] = {}
        for d, ts in posted:
            by_team.setdefault(d.team_id, []).append(SentPost(d.id, ts))
        recorded: set[int] = set()
        for team_id, sent in by_team.items():
            recorded |= await self._repo.mark_sent_many(
                team_id=team_id, sent=sent, worker_id=worker_id, sent_at=self._clock()
            )
        return recorded

    async def delivery_failed(
        self,
        delivery: DeliveryRow,
        *,
        worker_id: str,
        error: str,
        retry_in: timedelta,
        posted: bool | None,
    ) -> None:
        """Give the message back to be retried after `retry_in`; nothing is dropped."""
        await self._repo.release(
            team_id=delivery.team_id,
            delivery_id=delivery.id,
            worker_id=worker_id,
            error=error,
            retry_at=self._clock() + retry_in,
            posted=posted,
        )

    async def delivery_dropped(self, delivery: DeliveryRow, *, worker_id: str, reason: str) -> None:
        """Withdraw a message that must never be posted."""
        await self._repo.withdraw_delivery(
            team_id=delivery.team_id, delivery_id=delivery.id, worker_id=worker_id, reason=reason
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

    async def people_online(self, meeting: MeetingRow) -> list[tuple[str, str]]:
        """Who is in the running meeting now, as (stable ID, display name) pairs."""
        app = await self._app(meeting.team_id)
        if isinstance(app, NotConfigured):
            return []
        attendees = await self._meetings.online_attendees(
            app, meeting.organizer_third_party_id, meeting.conference_id
        )
        return [(a.third_account or a.participant_id, a.name) for a in attendees]

    async def record_event(self, *, team_id: str, event: str) -> None:
        """Note a workspace-level Slack event (uninstall, revoked tokens) in the audit log."""
        await self._repo.audit(
            team_id=team_id, actor_slack_id="slack", action=event, target=team_id, detail={}
        )

    # -- dispatch --

    async def _dispatch(
        self, invocation: Invocation, profile: Profile, command: cmd.Command
    ) -> Outcome:
        team_id = invocation.team_id
        match command:
            case cmd.StartNow() | cmd.Schedule():
                return await self._create(invocation, profile, command)
            case cmd.NoTimeFound(topic=topic):
                return NoTime(topic)
            case cmd.OpenScheduleModal():
                return OpenSchedule()
            case cmd.ListMeetings():
                found = await self._repo.upcoming_meetings(
                    team_id=team_id,
                    organizer_slack_id=profile.user_id,
                    now=self._clock(),
                    limit=LIST_LIMIT,
                )
                return Listing(tuple(found))
            case cmd.Cancel(meeting_id=conference_id):
                meeting = await self._repo.get_meeting_by_conference(
                    team_id=team_id, conference_id=conference_id
                )
                if meeting is None:
                    return Problem(
                        f"There is no meeting {conference_id} in this workspace.",
                        "/meet list  (shows your meetings and their IDs)",
                    )
                return await self._cancel(invocation, profile, meeting)
            case cmd.WhoAmI():
                workspace = await self._repo.ensure_workspace(team_id=team_id)
                explicit = await self._repo.get_mapping(
                    team_id=team_id, slack_user_id=profile.user_id
                )
                identity = third_party_id(
                    mode=workspace.mapping_mode, team_id=team_id, profile=profile, explicit=explicit
                )
                if isinstance(identity, NotMapped):
                    return WhoAmI(
                        profile.user_id,
                        None,
                        workspace.mapping_mode,
                        WHOAMI_PROBLEMS[identity.reason],
                    )
                return WhoAmI(profile.user_id, identity, workspace.mapping_mode, None)
            case cmd.Help():
                return Help(is_admin=self._is_admin(profile, team_id))
            case _:
                return await self._admin(invocation, profile, command)

    async def _admin(
        self, invocation: Invocation, profile: Profile, command: cmd.Command
    ) -> Outcome:
        if not await self._is_admin_now(invocation):
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
                page = min(max(page, 1), cmd.MAX_MAPPINGS_PAGE)
                rows, total = await self._repo.list_mappings(
                    team_id=team_id,
                    offset=(page - 1) * MAPPINGS_PER_PAGE,
                    limit=MAPPINGS_PER_PAGE,
                )
                pages = max(1, -(-total // MAPPINGS_PER_PAGE))
                pairs = tuple((m.slack_user_id, m.third_party_id) for m in rows)
                return MappingPage(pairs, min(page, pages), pages, workspace.mapping_mode)
            case cmd.AdminMappingMode(mode=mode):
                await self._repo.set_mapping_mode(
                    team_id=team_id, mode=MappingMode(mode.value), actor=actor
                )
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

    # -- use cases --

    async def _create(
        self, invocation: Invocation, profile: Profile, command: cmd.StartNow | cmd.Schedule
    ) -> Outcome:
        team_id = invocation.team_id
        workspace = await self._repo.ensure_workspace(team_id=team_id)
        app = await self._app(team_id)
        if isinstance(app, NotConfigured):
            return app
        organizer = await self._identity(team_id, workspace.mapping_mode, profile)
        if isinstance(organizer, NotMapped):
            return organizer
        now = self._clock()
        tz = user_zone(profile)
        invitees: list[Profile] = []
        attendees: list[Attendee] = []
        if isinstance(command, cmd.Schedule):
            for user_id in command.invitees:
                invitee = await self._directory.profile(team_id=team_id, user_id=user_id)
                if invitee is None or invitee.is_bot:
                    return Problem(
                        f"I can't invite {user_id}: not a person in this workspace.",
                        "/meet Design review tomorrow 3pm with @alice @bob",
                    )
                identity = await self._identity(team_id, workspace.mapping_mode, invitee)
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
            spec = MeetingSpec(subject=topic, length_minutes=30)

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

    async def _cancel(
        self, invocation: Invocation, profile: Profile, meeting: MeetingRow
    ) -> Outcome:
        if meeting.organizer_slack_id != profile.user_id and not await self._is_admin_now(
            invocation
        ):
            return NotAllowed("cancel this meeting: only its organizer or a workspace admin can")
        if meeting.state is MeetingState.CANCELLED:
            return Problem("That meeting was already cancelled.", "/meet list")
        app = await self._app(invocation.team_id)
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

    async def _check(self, invocation: Invocation) -> Outcome:
        app = await self._app(invocation.team_id)
        if isinstance(app, NotConfigured):
            return app
        try:
            await self._meetings.authenticate(app, None)
        except MeetingServiceError as exc:
            return VendorFailure(exc.user_message)
        return AdminDone(f"The meeting-service app {app.app_id} accepts meetbot's signature.")

    # -- helpers --

    async def _profile(self, team_id: str, user_id: str, *, fresh: bool = False) -> Profile:
        profile = await self._directory.profile(team_id=team_id, user_id=user_id, fresh=fresh)
        return profile or Profile(user_id=user_id, team_id=team_id, name=user_id)

    def _is_admin(self, profile: Profile, team_id: str) -> bool:
        return profile.user_id in self._settings.admins or profile.admin_of(team_id)

    async def _is_admin_now(self, invocation: Invocation) -> bool:
        """Admin rights as Slack states them now (never from a cache): they gate changes."""
        if invocation.user_id in self._settings.admins:
            return True
        profile = await self._profile(invocation.team_id, invocation.user_id, fresh=True)
        return self._is_admin(profile, invocation.team_id)

    async def _identity(self, team_id: str, mode: str, profile: Profile) -> str | NotMapped:
        explicit = await self._repo.get_mapping(team_id=team_id, slack_user_id=profile.user_id)
        return third_party_id(mode=mode, team_id=team_id, profile=profile, explicit=explicit)

    async def _app(self, team_id: str) -> AppCredentials | NotConfigured:
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
