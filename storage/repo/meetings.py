"""Meetings: what was created at the vendor (one row per meeting, idempotent on the vendor's
conference ID), its card in Slack, its live-status transitions with the messages they owe, and
the scheduler's cross-workspace maintenance queries (status poll, card repair)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, select, update

from storage.models import Delivery, Meeting, MeetingInvitee
from storage.repo.audit import add_audit_row
from storage.repo.base import RepositoryBase, find_meeting, insert_for
from storage.repo.deliveries import insert_new_deliveries, withdraw_unsent
from storage.repo.rows import (
    REMINDER_PREFIX,
    MeetingRow,
    NewDelivery,
    NewMeeting,
    dumps,
    encode_occurrences,
    meeting_row,
)
from storage.repo.workspaces import ensure_workspace_row
from storage.vocabulary import OPEN_STATES, MeetingState

__all__ = ["MAINTENANCE_BATCH", "WATCH_LEAD", "MeetingQueries"]

MAINTENANCE_BATCH: Final = 100
"""Default page size of the cross-workspace maintenance queries."""
WATCH_LEAD: Final = timedelta(minutes=15)
"""The status poll watches a meeting from this long before its start (or its earliest
reminder, if that is earlier): people often start early."""


def _watch_from(start: datetime, reminder_dues: Iterable[datetime]) -> datetime:
    """When the status poll starts watching the occurrence at `start`, whose reminders are
    due at `reminder_dues`."""
    return min([start - WATCH_LEAD, *reminder_dues])


def _upcoming(now: datetime) -> ColumnElement[bool]:
    """Live, or scheduled and not yet over at `now`."""
    return or_(
        col(Meeting.state) == MeetingState.LIVE.value,
        (col(Meeting.state) == MeetingState.SCHEDULED.value) & (col(Meeting.end_at) > now),
    )


def _reminder_dues(start: datetime, deliveries: Sequence[NewDelivery]) -> list[datetime]:
    return [
        d.due_at for d in deliveries if d.occurrence == start and d.kind.startswith(REMINDER_PREFIX)
    ]


def _record_reported(
    row: Meeting,
    state: MeetingState,
    started_at: datetime | None,
    ended_at: datetime | None,
    participant_count: int | None,
) -> None:
    """Set the state the vendor reports; None arguments leave the stored value."""
    row.state = MeetingState(state).value
    if started_at is not None:
        row.started_at = started_at
    if ended_at is not None:
        row.ended_at = ended_at
    if participant_count is not None:
        row.participant_count = participant_count


class MeetingQueries(RepositoryBase):
    """A workspace's meetings, and the open meetings of every workspace for the scheduler."""

    async def add_meeting(
        self, *, team_id: str, meeting: NewMeeting, deliveries: Sequence[NewDelivery]
    ) -> MeetingRow:
        """Record a meeting and the messages it owes, atomically.

        Idempotent on (team_id, conference_id): if the meeting is already recorded, that row
        is returned and nothing is added.
        """
        async with self._tx() as session:
            await ensure_workspace_row(session, team_id, now=self._clock())
            now = self._clock()
            stmt = (
                insert_for(session, Meeting)
                .values(
                    team_id=team_id,
                    conference_id=meeting.conference_id,
                    organizer_slack_id=meeting.organizer_slack_id,
                    organizer_third_party_id=meeting.organizer_third_party_id,
                    channel_id=meeting.channel_id,
                    topic=meeting.topic,
                    start_at=meeting.start_at,
                    end_at=meeting.end_at,
                    duration_minutes=meeting.duration_minutes,
                    tz_name=meeting.tz_name,
                    state=MeetingState(meeting.state).value,
                    is_instant=meeting.is_instant,
                    recurrence=None if meeting.recurrence is None else dumps(meeting.recurrence),
                    guest_join_url=meeting.guest_join_url,
                    invitees=dumps(list(meeting.invitees)),
                    created_at=now,
                    updated_at=now,
                    watch_from=_watch_from(
                        meeting.start_at, _reminder_dues(meeting.start_at, deliveries)
                    ),
                    occurrences=encode_occurrences(meeting.occurrences),
                )
                .on_conflict_do_nothing(index_elements=["team_id", "conference_id"])
                .returning(col(Meeting.id))
            )
            new_id = (await session.exec(stmt)).scalar_one_or_none()
            if new_id is not None:
                session.add_all(
                    MeetingInvitee(team_id=team_id, meeting_id=new_id, slack_user_id=user_id)
                    for user_id in dict.fromkeys(meeting.invitees)
                )
                session.add_all(
                    Delivery(
                        team_id=team_id,
                        meeting_id=new_id,
                        occurrence=d.occurrence,
                        kind=d.kind,
                        due_at=d.due_at,
                        payload=None if d.payload is None else dumps(d.payload),
                    )
                    for d in deliveries
                )
                await session.flush()
            query = select(Meeting).where(
                Meeting.team_id == team_id, Meeting.conference_id == meeting.conference_id
            )
            return meeting_row((await session.exec(query)).one())

    async def get_meeting(self, *, team_id: str, meeting_id: int) -> MeetingRow | None:
        """A meeting of this workspace by our id."""
        async with self._tx() as session:
            row = await find_meeting(session, team_id, meeting_id)
            return None if row is None else meeting_row(row)

    async def get_meeting_by_conference(
        self, *, team_id: str, conference_id: str
    ) -> MeetingRow | None:
        """A meeting of this workspace by the vendor's conference ID."""
        async with self._tx() as session:
            query = select(Meeting).where(
                Meeting.team_id == team_id, Meeting.conference_id == conference_id
            )
            row = (await session.exec(query)).one_or_none()
            return None if row is None else meeting_row(row)

    async def upcoming_meetings(
        self, *, team_id: str, organizer_slack_id: str | None, now: datetime, limit: int
    ) -> list[MeetingRow]:
        """Live meetings and scheduled ones not yet over, earliest start first; optionally
        only those of one organizer."""
        async with self._tx() as session:
            query = select(Meeting).where(Meeting.team_id == team_id, _upcoming(now))
            if organizer_slack_id is not None:
                query = query.where(Meeting.organizer_slack_id == organizer_slack_id)
            query = query.order_by(col(Meeting.start_at), col(Meeting.id)).limit(limit)
            return [meeting_row(r) for r in (await session.exec(query)).all()]

    async def upcoming_for_person(
        self, *, team_id: str, slack_user_id: str, now: datetime, limit: int, offset: int = 0
    ) -> tuple[list[MeetingRow], int]:
        """One page of the live and not-yet-over scheduled meetings a person organizes or is
        invited to, earliest start first, and how many there are in all."""
        invited = select(col(MeetingInvitee.meeting_id)).where(
            MeetingInvitee.team_id == team_id, MeetingInvitee.slack_user_id == slack_user_id
        )
        where = (
            col(Meeting.team_id) == team_id,
            _upcoming(now),
            or_(col(Meeting.organizer_slack_id) == slack_user_id, col(Meeting.id).in_(invited)),
        )
        async with self._tx() as session:
            total = (
                await session.exec(select(func.count()).select_from(Meeting).where(*where))
            ).one()
            query = (
                select(Meeting)
                .where(*where)
                .order_by(col(Meeting.start_at), col(Meeting.id))
                .offset(offset)
                .limit(limit)
            )
            return [meeting_row(r) for r in (await session.exec(query)).all()], total

    async def recent_meetings_of(
        self, *, team_id: str, organizer_slack_id: str, channel_id: str, created_since: datetime
    ) -> list[MeetingRow]:
        """Open meetings one person created in one conversation since `created_since`, newest
        first (the duplicate guard's candidates)."""
        async with self._tx() as session:
            query = (
                select(Meeting)
                .where(
                    Meeting.team_id == team_id,
                    Meeting.organizer_slack_id == organizer_slack_id,
                    col(Meeting.created_at) >= created_since,
                    Meeting.channel_id == channel_id,
                    col(Meeting.state).in_(OPEN_STATES),
                )
                .order_by(col(Meeting.created_at).desc(), col(Meeting.id).desc())
                .limit(MAINTENANCE_BATCH)
            )
            return [meeting_row(r) for r in (await session.exec(query)).all()]

    async def set_card(
        self,
        *,
        team_id: str,
        meeting_id: int,
        channel_id: str,
        message_ts: str,
        card_state: str | None,
    ) -> MeetingRow | None:
        """Record where the meeting's card is posted and the state it last showed."""
        async with self._tx() as session:
            row = await find_meeting(session, team_id, meeting_id)
            if row is None:
                return None
            row.channel_id, row.message_ts, row.card_state = channel_id, message_ts, card_state
            row.updated_at = self._clock()
            await session.flush()
            return meeting_row(row)

    async def cancel_meeting(
        self, *, team_id: str, meeting_id: int, actor: str
    ) -> MeetingRow | None:
        """Cancel a scheduled or live meeting and withdraw every message not yet sent.

        None if there is no such meeting; an ended or already cancelled meeting is returned
        unchanged (and nothing is audited).
        """
        async with self._tx() as session:
            row = await find_meeting(session, team_id, meeting_id)
            if row is None or row.state not in OPEN_STATES:
                return None if row is None else meeting_row(row)
            now = self._clock()
            old_state = row.state
            row.state, row.updated_at = MeetingState.CANCELLED.value, now
            withdrawn = await withdraw_unsent(session, team_id, meeting_id, now)
            add_audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="meeting.cancel",
                target=row.conference_id,
                detail={"meeting_id": meeting_id, "old_state": old_state, "withdrawn": withdrawn},
                at=self._clock(),
            )
            await session.flush()
            return meeting_row(row)

    async def update_meeting_state(
        self,
        *,
        team_id: str,
        meeting_id: int,
        state: MeetingState,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        participant_count: int | None = None,
    ) -> MeetingRow | None:
        """Record the state the vendor reports; None arguments leave the stored value."""
        async with self._tx() as session:
            row = await find_meeting(session, team_id, meeting_id)
            if row is None:
                return None
            _record_reported(row, state, started_at, ended_at, participant_count)
            row.updated_at = self._clock()
            await session.flush()
            return meeting_row(row)

    async def all_workspaces_meetings_without_card(
        self, *, created_before: datetime, limit: int = MAINTENANCE_BATCH
    ) -> list[MeetingRow]:
        """Open meetings whose card was never posted (a crash between create and post).

        Cross-workspace on purpose: the scheduler repairs these for every workspace.
        `created_before` leaves alone meetings whose request is still posting its card.
        """
        async with self._tx() as session:
            query = (
                select(Meeting)
                .where(
                    col(Meeting.message_ts).is_(None),
                    col(Meeting.state).in_(OPEN_STATES),
                    col(Meeting.created_at) < created_before,
                )
                .order_by(col(Meeting.created_at), col(Meeting.id))
                .limit(limit)
            )
            return [meeting_row(r) for r in (await session.exec(query)).all()]

    async def all_workspaces_meetings_to_poll(
        self,
        *,
        starting_before: datetime | None = None,
        watching_at: datetime | None = None,
        conference_id: str | None = None,
        after: tuple[str, int] | None = None,
        limit: int = MAINTENANCE_BATCH,
    ) -> list[MeetingRow]:
        """Open meetings the status machinery looks at, by (team_id, start, id) -- or by
        (team_id, id) when paging with `after`.

        Filters (all optional, combined): `starting_before` (start before now + a lead),
        `watching_at` (the watch has begun: `watch_from <= watching_at`), `conference_id`
        (the vendor's push names only that). Page with `after` = (team_id, id) of the last
        row of the previous page.

        Cross-workspace on purpose: the status poll batches vendor calls per workspace.
        """
        async with self._tx() as session:
            query = select(Meeting).where(col(Meeting.state).in_(OPEN_STATES))
            if starting_before is not None:
                query = query.where(col(Meeting.start_at) < starting_before)
            if watching_at is not None:
                query = query.where(col(Meeting.watch_from) <= watching_at)
            if conference_id is not None:
                query = query.where(Meeting.conference_id == conference_id)
            if after is None:
                query = query.order_by(col(Meeting.team_id), col(Meeting.start_at), col(Meeting.id))
            else:
                team, last_id = after
                query = query.where(
                    or_(
                        col(Meeting.team_id) > team,
                        (col(Meeting.team_id) == team) & (col(Meeting.id) > last_id),
                    )
                ).order_by(col(Meeting.team_id), col(Meeting.id))
            return [meeting_row(r) for r in (await session.exec(query.limit(limit))).all()]

    async def transition_meeting(
        self,
        *,
        team_id: str,
        meeting_id: int,
        expect_state: MeetingState,
        expect_start: datetime,
        state: MeetingState,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        participant_count: int | None = None,
        next_start: datetime | None = None,
        deliveries: Sequence[NewDelivery] = (),
        withdraw_reminders: bool = False,
    ) -> MeetingRow | None:
        """Apply a live-status change and enqueue what it owes, atomically.

        Compare-and-set: nothing happens (None) unless the meeting is still in `expect_state`
        at the occurrence `expect_start`, so two replicas seeing the same change apply it
        once. `withdraw_reminders` withdraws the unsent reminders of that occurrence (it is
        over). `next_start` moves a recurring meeting on to that occurrence: it is scheduled
        again and its live facts are cleared.
        """
        async with self._tx() as session:
            row = await find_meeting(session, team_id, meeting_id, lock=True)
            if row is None or row.state != expect_state.value or row.start_at != expect_start:
                return None
            now = self._clock()
            if next_start is not None:
                pending = select(col(Delivery.due_at)).where(
                    Delivery.team_id == team_id,
                    Delivery.meeting_id == meeting_id,
                    Delivery.occurrence == next_start,
                    col(Delivery.kind).startswith(REMINDER_PREFIX),
                    col(Delivery.withdrawn_at).is_(None),
                )
                dues = list((await session.exec(pending)).all())
                row.state = MeetingState.SCHEDULED.value
                row.start_at = next_start
                row.end_at = next_start + timedelta(minutes=row.duration_minutes)
                row.watch_from = _watch_from(next_start, dues)
                row.started_at = row.ended_at = row.participant_count = None
            else:
                _record_reported(row, state, started_at, ended_at, participant_count)
            row.updated_at = now
            if withdraw_reminders:
                await session.exec(
                    update(Delivery)
                    .where(
                        col(Delivery.team_id) == team_id,
                        col(Delivery.meeting_id) == meeting_id,
                        col(Delivery.occurrence) == expect_start,
                        col(Delivery.kind).startswith(REMINDER_PREFIX),
                        col(Delivery.sent_at).is_(None),
                        col(Delivery.withdrawn_at).is_(None),
                    )
                    .values(withdrawn_at=now)
                    .execution_options(synchronize_session=False)
                )
            if deliveries:
                await session.exec(insert_new_deliveries(session, team_id, meeting_id, deliveries))
            await session.flush()
            return meeting_row(row)

    async def set_participant_count(
        self, *, team_id: str, meeting_id: int, count: int
    ) -> MeetingRow | None:
        """Record a live meeting's head count; the row only if the count changed."""
        async with self._tx() as session:
            stmt = (
                update(Meeting)
                .where(
                    col(Meeting.team_id) == team_id,
                    col(Meeting.id) == meeting_id,
                    col(Meeting.state) == MeetingState.LIVE.value,
                    or_(
                        col(Meeting.participant_count).is_(None),
                        col(Meeting.participant_count) != count,
                    ),
                )
                .values(participant_count=count, updated_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            if (await session.exec(stmt)).rowcount != 1:
                return None
            row = await find_meeting(session, team_id, meeting_id)
            return None if row is None else meeting_row(row)

    async def set_card_state(self, *, team_id: str, meeting_id: int, card_state: str) -> None:
        """Record the state the meeting's card last showed."""
        async with self._tx() as session:
            await session.exec(
                update(Meeting)
                .where(col(Meeting.team_id) == team_id, col(Meeting.id) == meeting_id)
                .values(card_state=card_state)
                .execution_options(synchronize_session=False)
            )

    async def set_call(
        self, *, team_id: str, meeting_id: int, call_id: str | None
    ) -> MeetingRow | None:
        """Record (or, with None, forget) the Slack call object shown on the meeting's card."""
        async with self._tx() as session:
            row = await find_meeting(session, team_id, meeting_id)
            if row is None:
                return None
            row.slack_call_id = call_id
            row.updated_at = self._clock()
            session.add(row)
            await session.flush()
            return meeting_row(row)
