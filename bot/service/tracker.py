"""Following meetings' live state at the vendor (poll and pushed events): apply each decision
of `status` to the database, enqueue the messages it owes, and report what changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.huawei.answers import Conference
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import MeetingServiceError
from bot.huawei.models import AppCredentials
from bot.service.deliveries import ENDED, STARTED
from bot.service.identity import Identity, NotConfigured
from bot.service.ports import MeetingPush, MeetingRow, PushKind
from bot.service.status import (
    HISTORY_GRACE,
    Decision,
    StatusChange,
    StatusKind,
    decide_status,
    lasted_minutes,
    pick_session,
)
from storage.models import MeetingState
from storage.repo import NewDelivery, Repository

__all__ = ["Tracker"]

log = logging.getLogger(__name__)

WATCH_PAGE: Final = 1000
POLL_CONCURRENCY: Final = 8
"""Apps (vendor enterprises) polled at once."""


class Tracker:
    """Applies live-status changes (started, participants, ended, not held) exactly once."""

    def __init__(
        self,
        *,
        repo: Repository,
        meetings: HuaweiMeetingClient,
        identity: Identity,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._meetings = meetings
        self._identity = identity
        self._clock = clock

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
            app = await self._identity.app(team_id)  # one unreadable key skips only its own
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
        # An odd online item is kept (its meeting is not "unsure", so history cannot end it)
        # and `decide_status` reads an unknown state as no news; an item the client had to
        # skip (no conference ID) cannot name its meeting. Either way the others go on.
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
        """Apply a verified vendor event (started, ended) like the poll would.

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
            if push.kind is PushKind.STARTED and meeting.state is MeetingState.SCHEDULED:
                decision = Decision(StatusKind.STARTED, started_at=push.event_time)
            elif push.kind is PushKind.ENDED and meeting.state is MeetingState.LIVE:
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
        apps = {team: await self._identity.app(team) for team in {m.team_id for m in meetings}}
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

    async def people_online(self, meeting: MeetingRow) -> list[tuple[str, str]]:
        """Who is in the running meeting now, as (stable ID, display name) pairs."""
        app = await self._identity.app(meeting.team_id)
        if isinstance(app, NotConfigured):
            return []
        attendees = await self._meetings.online_attendees(
            app, meeting.organizer_third_party_id, meeting.conference_id
        )
        return [(a.third_account or a.participant_id, a.name) for a in attendees]
