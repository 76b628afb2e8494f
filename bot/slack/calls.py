"""Native Slack calls on meeting cards (MEETBOT_SLACK_CALLS=true).

`calls.add` when a card is posted (the guest join link, the conference ID in the external
ID), participants kept in step with the vendor's online attendee list while the meeting
runs, `calls.end` with the duration when it ends. Each occurrence of a recurring meeting
gets its own call object.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import MeetingService, StatusChange, StatusKind
from bot.service.ports import MeetingRow, MeetingServiceError
from bot.slack.blocks import format_meeting_id
from bot.slack.installs import acting_for
from bot.slack.notifier import Notifier

__all__ = ["SlackCalls", "external_id"]

log = logging.getLogger(__name__)


def external_id(meeting: MeetingRow, occurrence: datetime) -> str:
    """Unique per call object: the conference ID, and the occurrence for recurring meetings."""
    return f"{meeting.conference_id}@{int(occurrence.timestamp())}"


class SlackCalls:
    """Keeps a Slack call object beside each meeting card."""

    def __init__(self, client: AsyncWebClient, service: MeetingService, notifier: Notifier) -> None:
        self._client = client
        self._service = service
        self._notifier = notifier

    async def attach(self, meeting: MeetingRow) -> MeetingRow:
        """Create the call object for the meeting's current occurrence; the updated meeting."""
        if meeting.slack_call_id or not meeting.guest_join_url:
            return meeting
        try:
            with acting_for(meeting.team_id):
                answer = await self._client.calls_add(
                    external_unique_id=external_id(meeting, meeting.start_at),
                    external_display_id=format_meeting_id(meeting.conference_id),
                    join_url=meeting.guest_join_url,
                    title=meeting.topic[:255],
                    created_by=meeting.organizer_slack_id,
                    date_start=int(meeting.start_at.timestamp()),
                )
        except SlackApiError as exc:
            log.warning(
                "calls.add failed for meeting %s: %s", meeting.id, exc.response.get("error")
            )
            return meeting
        return await self._service.set_call(meeting, str(answer["call"]["id"]))

    async def on_status(self, change: StatusChange) -> None:
        """Scheduler listener: follow starts, participant changes and ends."""
        with acting_for(change.meeting.team_id):
            await self._follow(change)

    async def _follow(self, change: StatusChange) -> None:
        meeting = change.meeting
        match change.kind:
            case StatusKind.STARTED | StatusKind.PARTICIPANTS:
                if not meeting.slack_call_id:  # the next occurrence of a recurring meeting
                    meeting = await self.attach(meeting)
                    await self._notifier.update_card(meeting)
                await self._sync_participants(meeting)
            case StatusKind.ENDED | StatusKind.NOT_HELD:
                if meeting.slack_call_id:
                    seconds = 60 * (change.lasted_minutes or 0)
                    try:
                        await self._client.calls_end(id=meeting.slack_call_id, duration=seconds)
                    except SlackApiError as exc:
                        log.warning("calls.end failed: %s", exc.response.get("error"))
                    await self._service.set_call(meeting, None)

    async def _sync_participants(self, meeting: MeetingRow) -> None:
        call_id = meeting.slack_call_id
        if not call_id:
            return
        try:
            online = dict(await self._service.people_online(meeting))
        except MeetingServiceError as exc:
            log.warning("online attendees of meeting %s: %s", meeting.id, exc.error_code)
            return
        info = await self._client.calls_info(id=call_id)
        shown = {str(u.get("external_id")) for u in info["call"].get("users", [])}
        joined = [
            {"external_id": k, "display_name": v} for k, v in online.items() if k not in shown
        ]
        left = [{"external_id": k} for k in shown if k not in online]
        if joined:
            await self._client.calls_participants_add(id=call_id, users=joined)
        if left:
            await self._client.calls_participants_remove(id=call_id, users=left)
