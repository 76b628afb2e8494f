"""Native Slack calls on meeting cards (MEETBOT_SLACK_CALLS=true).

A call object exists only while the meeting runs: `calls.add` when it starts (the status
tracker's "started" change; an instant meeting, live at once, when its card is posted), shown
on the card by a `call` block (chat.update), participants kept in step with the vendor's online
attendee list, `calls.end` with the duration when it ends. Each occurrence of a recurring
meeting gets its own call. The call's id is stored with the meeting, so a restart or a later
change finds it instead of adding a second call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import MeetingService, StatusChange, StatusKind
from bot.service.ports import MeetingRow, MeetingServiceError
from bot.slack.blocks import format_meeting_id
from bot.slack.installs import acting_for
from bot.slack.notifier import Notifier
from storage.vocabulary import MeetingState

__all__ = [
    "GUEST_NAME",
    "SlackCalls",
    "call_seconds",
    "call_user",
    "external_id",
    "participants_delta",
]

log = logging.getLogger(__name__)

GUEST_NAME: Final = "Meeting guest"
"""Shown for a participant the meeting service names with nothing but blanks."""
DISPLAY_NAME_MAX: Final = 80
TITLE_MAX: Final = 255

CallUser = dict[str, str]
"""A Calls API user: `{"slack_id": …}` or `{"external_id": …, "display_name": …}`."""


def external_id(meeting: MeetingRow, occurrence: datetime) -> str:
    """Unique per call object: the conference ID, and the occurrence for recurring meetings."""
    return f"{meeting.conference_id}@{int(occurrence.timestamp())}"


def call_user(person_id: str, name: str, *, slack_ids: Mapping[str, str]) -> CallUser:
    """A participant as Slack's Calls API takes them: a Slack user by `slack_id` when their
    meeting identity is known to be one, anyone else with a non-empty display name."""
    if slack_id := slack_ids.get(person_id):
        return {"slack_id": slack_id}
    shown = " ".join(name.split())[:DISPLAY_NAME_MAX] or GUEST_NAME
    return {"external_id": person_id, "display_name": shown}


def _key(user: Mapping[str, Any]) -> str:
    return str(user.get("slack_id") or user.get("external_id") or "")


def participants_delta(
    online: Sequence[tuple[str, str]],
    shown: Sequence[Mapping[str, Any]],
    *,
    slack_ids: Mapping[str, str],
) -> tuple[list[CallUser], list[CallUser]]:
    """Who to add to and remove from a call showing `shown`, for the vendor's `online`
    (stable ID, name) list: (joined, left)."""
    wanted = [call_user(person, name, slack_ids=slack_ids) for person, name in online]
    present = {_key(u) for u in shown}
    joined = list({_key(u): u for u in wanted if _key(u) not in present}.values())
    kept = {_key(u) for u in wanted}
    left: list[CallUser] = []
    for user in shown:
        key = _key(user)
        if key and key not in kept:
            left.append({"slack_id": key} if user.get("slack_id") else {"external_id": key})
    return joined, left


def call_seconds(change: StatusChange) -> int:
    """How long the occurrence lasted, for calls.end: exact when the vendor gave both times."""
    if change.started_at is not None and change.ended_at is not None:
        return max(0, int((change.ended_at - change.started_at).total_seconds()))
    return 60 * (change.lasted_minutes or 0)


class SlackCalls:
    """Keeps a Slack call object beside each running meeting's card."""

    def __init__(self, client: AsyncWebClient, service: MeetingService, notifier: Notifier) -> None:
        self._client = client
        self._service = service
        self._notifier = notifier

    async def attach(self, meeting: MeetingRow) -> MeetingRow:
        """Card hook, run just before a card is first posted: a meeting already live (an
        instant one) gets its call now; a scheduled one only when it starts (`on_status`)."""
        if meeting.state is not MeetingState.LIVE:
            return meeting
        with acting_for(meeting.team_id):
            return await self._add(meeting, started=meeting.started_at or meeting.start_at)

    async def on_status(self, change: StatusChange) -> None:
        """Scheduler listener: follow starts, participant changes and ends (with the token
        of the meeting's team)."""
        with acting_for(change.meeting.team_id):
            await self._follow(change)

    async def _follow(self, change: StatusChange) -> None:
        meeting = change.meeting
        match change.kind:
            case StatusKind.STARTED | StatusKind.PARTICIPANTS:
                if not meeting.slack_call_id:
                    # Started; or running without a call (it failed to be added, or the
                    # process stopped before adding it).
                    started = change.started_at or meeting.started_at or meeting.start_at
                    meeting = await self._add(meeting, started=started)
                    if meeting.slack_call_id:
                        await self._notifier.update_card(meeting)
                await self._sync_participants(meeting)
            case StatusKind.ENDED | StatusKind.NOT_HELD:
                if meeting.slack_call_id:
                    await self._end(meeting, meeting.slack_call_id, call_seconds(change))

    async def _add(self, meeting: MeetingRow, *, started: datetime) -> MeetingRow:
        """calls.add for the meeting's current occurrence and store its id; the meeting."""
        if meeting.slack_call_id or not meeting.guest_join_url:
            return meeting
        try:
            answer = await self._client.calls_add(
                external_unique_id=external_id(meeting, meeting.start_at),
                external_display_id=format_meeting_id(meeting.conference_id),
                join_url=meeting.guest_join_url,
                title=meeting.topic[:TITLE_MAX],
                created_by=meeting.organizer_slack_id,
                date_start=int(started.timestamp()),
            )
        except SlackApiError as exc:
            log.warning(
                "calls.add failed for meeting %s: %s", meeting.id, exc.response.get("error")
            )
            return meeting
        return await self._service.set_call(meeting, str(answer["call"]["id"]))

    async def _end(self, meeting: MeetingRow, call_id: str, seconds: int) -> None:
        try:
            await self._client.calls_end(id=call_id, duration=seconds)
        except SlackApiError as exc:
            log.warning("calls.end failed: %s", exc.response.get("error"))
        meeting = await self._service.set_call(meeting, None)
        if meeting.state is MeetingState.SCHEDULED:
            # A recurring meeting's card now shows its next occurrence, which has no call yet.
            await self._notifier.update_card(meeting)

    async def _sync_participants(self, meeting: MeetingRow) -> None:
        call_id = meeting.slack_call_id
        if not call_id:
            return
        try:
            online = await self._service.people_online(meeting)
        except MeetingServiceError as exc:
            log.warning("online attendees of meeting %s: %s", meeting.id, exc.error_code)
            return
        info = await self._client.calls_info(id=call_id)
        joined, left = participants_delta(
            online,
            info["call"].get("users", []),
            slack_ids={meeting.organizer_third_party_id: meeting.organizer_slack_id},
        )
        if joined:
            await self._client.calls_participants_add(id=call_id, users=joined)
        if left:
            await self._client.calls_participants_remove(id=call_id, users=left)
