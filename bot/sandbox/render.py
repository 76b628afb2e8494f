"""Rendering of the sandbox's meetings: the vendor's wire shapes (ConferenceInfo, participants,
pages) and the control API's view of a meeting."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.huawei.answers import ConferenceState
from bot.huawei.client import PAGE_MAX
from bot.sandbox.model import Meeting, Session, User, is_host
from bot.sandbox.rules import format_wire_time, int_param, zone_for

__all__ = ["conference_info", "history_info", "meeting_record", "page", "participant_info"]


def conference_info(m: Meeting, viewer: User, now: float) -> dict[str, Any]:
    """The vendor's ConferenceInfo of `m` as `viewer` sees it at `now`."""
    spec, slot = m.spec, m.slot(now)
    host = is_host(viewer, m)
    passwords = [{"conferenceRole": "general", "password": m.guest_password}]
    if host:
        passwords.insert(0, {"conferenceRole": "chair", "password": m.chair_password})
    info: dict[str, Any] = {
        "conferenceID": m.conference_id,
        "subject": spec.subject,
        "size": len(spec.attendees),
        "timeZoneID": spec.time_zone_id or "",
        "startTime": format_wire_time(m.starts[slot]),
        "endTime": format_wire_time(m.starts[slot] + m.length_s),
        "length": spec.length,
        "mediaTypes": spec.media_types,
        "conferenceState": ConferenceState.CREATED if m.session else ConferenceState.SCHEDULE,
        "language": spec.language,
        "accessNumber": "+991000",
        "passwordEntry": passwords,
        "userUUID": m.owner.uuid,
        "scheduserName": m.owner.name,
        "conferenceType": 2 if spec.cycle else 0,
        "confType": m.conf_type,
        "isAutoMute": 0,
        "isAutoRecord": 0,
        "guestJoinUri": m.guest_uri,
        "recordType": 0,
        "recordAuxStream": 0,
        "recordAuthType": 0,
        "confConfigInfo": {
            "isSendNotify": True,
            "isSendSms": True,
            "isSendCalendar": True,
            "isGuestFreePwd": False,
            "callInRestriction": 0,
            "prolongLength": 0,
            **spec.conf_config,
        },
        "vmrFlag": 0,
        "partAttendeeInfo": [
            {
                "name": a.get("name", ""),
                "phone": a.get("phone", ""),
                "type": a.get("type", "normal"),
                "role": a.get("role", 0),
                "isMute": a.get("isMute", 0),
            }
            for a in spec.attendees[:20]
        ],
        "terminlCount": 0,
        "normalCount": len(spec.attendees),
        "deptName": "",
        "webinar": False,
        "multiStreamFlag": 1,
        "confMode": "RTC",
        "concurrentParticipants": 0,
        "supportSimultaneousInterpretation": False,
    }
    if host:
        info["chairJoinUri"] = m.chair_uri
    if m.session is not None:
        info["confUUID"] = m.session.conf_uuid
    if spec.cycle is not None:
        info["cycleParams"] = {**spec.cycle.wire(), "endDate": _last_date(m)}
        info["cycleSubConfID"] = m.sub_ids[0]
        info["subConfs"] = [
            {
                "cycleSubConfID": sub_id,
                "conferenceID": m.conference_id,
                "mediaType": spec.media_types,
                "startTime": format_wire_time(start),
                "endTime": format_wire_time(start + m.length_s),
                "isAutoRecord": 0,
                "recordAuthType": 0,
                "description": "",
                "confConfigInfo": {"callInRestriction": 0},
            }
            for sub_id, start in zip(m.sub_ids, m.starts, strict=True)
        ]
    return info


def history_info(m: Meeting, s: Session, viewer: User) -> dict[str, Any]:
    """A history record: ConferenceInfo with the session's confUUID and actual times."""
    ended_at = s.started_at + m.length_s if s.ended_at is None else s.ended_at
    info = conference_info(m, viewer, s.started_at)
    info.pop("subConfs", None)
    info.update(
        confUUID=s.conf_uuid,
        conferenceState=ConferenceState.DESTROYED,
        startTime=format_wire_time(s.started_at),
        endTime=format_wire_time(ended_at),
        length=round((ended_at - s.started_at) / 60),
        isHasRecordFile=False,
    )
    return info


def _last_date(m: Meeting) -> str:
    # cycleParams.endDate as the vendor reports it: the last sub-meeting after the 50 cap.
    zone = zone_for(m.spec.time_zone_id)
    return datetime.fromtimestamp(m.starts[-1], zone).date().isoformat()


def participant_info(index: int, attendee: Mapping[str, Any], app_id: str) -> dict[str, Any]:
    """A confDetail ParticipantInfo for an invited attendee."""
    return {
        "participantID": str(index),
        "name": attendee.get("name", ""),
        "role": attendee.get("role", 0),
        "state": "MEETTING",
        "attendeeType": attendee.get("type", "normal"),
        "accountId": attendee.get("accountId", ""),
        "appId": attendee.get("appId", app_id) if "accountId" in attendee else "",
        "email": attendee.get("email", ""),
        "sms": attendee.get("sms", ""),
        "address": attendee.get("phone", ""),
        "deptName": attendee.get("deptName", ""),
        "isAutoInvite": attendee.get("isAutoInvite", 0),
    }


def page(items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """The vendor's page of a list answer, cut by the `offset` and `limit` query parameters."""
    offset = int_param(query, "offset", 0)
    limit = int_param(query, "limit", 20, low=1, high=PAGE_MAX)
    return {
        "offset": offset,
        "limit": limit,
        "count": len(items),
        "data": items[offset : offset + limit],
    }


def meeting_record(m: Meeting) -> dict[str, Any]:
    """What `GET /_sandbox/meetings` tells of a meeting (already settled to now)."""
    state = (
        "Cancelled"
        if m.cancelled
        else ConferenceState.CREATED
        if m.session
        else ConferenceState.SCHEDULE
        if m.booked
        else "Ended"
    )
    return {
        "conference_id": m.conference_id,
        "app_id": m.scope[0],
        "corp_id": m.scope[1],
        "owner": m.owner.party[2],
        "owner_uuid": m.owner.uuid,
        "subject": m.spec.subject,
        "state": state,
        "conf_type": m.conf_type,
        "start": m.starts[0],
        "start_time": format_wire_time(m.starts[0]),
        "length": m.spec.length,
        "sub_meetings": len(m.starts),
        "cancelled": m.cancelled,
        "attendees": [a.get("accountId") for a in m.spec.attendees],
        "participants": [
            {"participant_id": p.pid, "name": p.name, "account_id": p.account_id}
            for p in m.participants.values()
        ],
        "sessions": [
            {"conf_uuid": s.conf_uuid, "start": s.started_at, "end": s.ended_at} for s in m.sessions
        ],
    }
