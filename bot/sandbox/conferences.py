"""The vendor's meeting API on the sandbox: book, edit, cancel, list, detail, history, control.

Each handler takes a `Call` (authenticated caller, sandbox time) and returns the answer's JSON
or raises `SandboxError`; `bot.sandbox.app` routes the vendor's paths to them.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any, Final

from bot.huawei.answers import ConfType
from bot.sandbox.bookings import Bookings
from bot.sandbox.model import (
    Call,
    ControlToken,
    Meeting,
    is_host,
    login_account,
    matches,
    parties,
    user_uuid,
)
from bot.sandbox.oddities import Oddities
from bot.sandbox.render import conference_info, history_info, page, participant_info
from bot.sandbox.rules import (
    NotFoundError,
    NotStartedError,
    ParamError,
    SandboxError,
    expand_cycle,
    int_param,
    parse_meeting_spec,
    zone_for,
)

__all__ = ["Conferences"]

FAKE_HOST: Final = "https://sandbox.meeting.invalid"
CONTROL_TOKEN_TTL_SECONDS: Final = 1800


def _digits(n: int) -> str:
    # One draw for the whole string: secrets.choice per digit costs a getrandom() call each.
    return f"{secrets.randbelow(10**n):0{n}d}"


class Conferences:
    """The meeting-management and conference-control handlers, over `Bookings`."""

    def __init__(self, bookings: Bookings) -> None:
        self._book = bookings
        self.oddities = Oddities()
        """How the answers' ConferenceInfo items are made odd (`/_sandbox/oddities`)."""

    def create(self, call: Call, *, recurring: bool = False) -> list[dict[str, Any]]:
        """`POST .../conferences` and `.../cycleconferences`: book (and maybe start) a meeting."""
        user = call.caller
        spec = parse_meeting_spec(
            call.json(), app_id=user.scope[0], now=call.now, recurring=recurring
        )
        if spec.start is None:
            starts, conf_type = [call.now], ConfType.IMMEDIATELY
        elif spec.cycle is not None:
            zone = zone_for(spec.time_zone_id)
            starts, conf_type = (
                expand_cycle(spec.cycle, first_start=spec.start, zone=zone),
                ConfType.CYCLE,
            )
            if not starts:
                raise ParamError("cycleParams yields no sub-meeting")
        else:
            starts, conf_type = [spec.start], ConfType.FUTURE
        conference_id = self._book.new_conference_id()
        guest_pwd = spec.conf_config.get("guestPwd")
        m = Meeting(
            conference_id=conference_id,
            scope=user.scope,
            owner=user,
            spec=spec,
            starts=starts,
            sub_ids=[uuid.uuid4().hex for _ in starts] if spec.cycle else [""],
            conf_type=conf_type,
            chair_password=_digits(6),
            guest_password=guest_pwd if isinstance(guest_pwd, str) else _digits(6),
            chair_uri=f"{FAKE_HOST}/j/{conference_id}/{secrets.token_hex(16)}",
            guest_uri=f"{FAKE_HOST}/j/{conference_id}/{secrets.token_hex(16)}",
            parties=parties(user, spec),
        )
        self._book.add(m)
        if conf_type is ConfType.IMMEDIATELY:
            self._book.open_session(m, call.now)
        return [self.oddities.info(conference_info(m, user, call.now))]

    def edit(self, call: Call, *, recurring: bool = False) -> list[dict[str, Any]]:
        """`PUT .../conferences?conferenceID=` (and `.../cycleconferences` for a recurring
        meeting): replace a booking that has not started."""
        user = call.caller
        m = self._book.find(user, call.query.get("conferenceID"), call.now)
        if not is_host(user, m):
            raise SandboxError(403, "MMC.990000005", "only the organizer or an admin may edit")
        if m.session is not None:
            raise SandboxError(400, "MMC.990000002", "a meeting in progress cannot be edited")
        if (m.spec.cycle is not None) != recurring:
            raise ParamError(
                "edit a recurring meeting through /cycleconferences"
                if m.spec.cycle is not None
                else "not a recurring meeting: edit it through /conferences"
            )
        spec = parse_meeting_spec(call.json(), app_id=m.scope[0], now=call.now, recurring=recurring)
        if spec.cycle is not None and spec.start is not None:
            starts = expand_cycle(
                spec.cycle, first_start=spec.start, zone=zone_for(spec.time_zone_id)
            )
            if not starts:
                raise ParamError("cycleParams yields no sub-meeting")
            sub_ids = [uuid.uuid4().hex for _ in starts]
        else:
            # Without a startTime the booking keeps its start (an edit never turns into "start now").
            starts = [m.starts[0] if spec.start is None else spec.start]
            sub_ids = m.sub_ids[:1]
        self._book.unbook(m)
        m.spec, m.starts, m.sub_ids = spec, starts, sub_ids
        m.parties, m.booked = parties(m.owner, spec), True
        self._book.book(m)
        return [self.oddities.info(conference_info(m, user, call.now))]

    def create_recurring(self, call: Call) -> list[dict[str, Any]]:
        """`POST .../cycleconferences`."""
        return self.create(call, recurring=True)

    def edit_recurring(self, call: Call) -> list[dict[str, Any]]:
        """`PUT .../cycleconferences`."""
        return self.edit(call, recurring=True)

    def cancel(self, call: Call) -> None:
        """`DELETE .../conferences` (and cycleconferences): type=1 also ends a running meeting."""
        user = call.caller
        m = self._book.find(user, call.query.get("conferenceID"), call.now)
        if not is_host(user, m):
            raise SandboxError(403, "MMC.990000005", "only the organizer or an admin may cancel")
        if m.session is not None:
            if int_param(call.query, "type", 0, high=1) != 1:
                raise SandboxError(
                    400, "MMC.990000002", "the meeting is in progress; cancel it with type=1"
                )
            self._book.close_session(m, call.now)
        m.cancelled = True
        self._book.unbook(m)

    def detail(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences/confDetail`: the meeting plus its invited participants."""
        user = call.caller
        m = self._book.find(user, call.query.get("conferenceID"), call.now)
        key = (call.query.get("searchKey") or "").lower()
        people = [
            participant_info(i, a, m.scope[0])
            for i, a in enumerate(m.spec.attendees, 1)
            if key in str(a.get("name", "")).lower() or key in str(a.get("accountId", "")).lower()
        ]
        info = conference_info(m, user, call.now)
        info["role"] = "chair" if is_host(user, m) else "general"
        return {"conferenceData": self.oddities.info(info), "data": page(people, call.query)}

    def _query_all(self, call: Call) -> bool:
        return call.caller.admin and call.query.get("queryAll") == "true"

    def list_meetings(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences`: the caller's (or, admin + queryAll, everyone's) open bookings."""
        user, now = call.caller, call.now
        pool = self._book.booked(user, everyone=self._query_all(call))
        for m in list(pool.values()):
            self._book.settle(m, now)
        horizon = {"ADAY": 1, "AWEEK": 7, "AMONTH": 30}.get(call.query.get("queryConfMode", ""))
        found = []
        for m in pool.values():
            start = m.starts[m.slot(now)]
            if horizon is not None and start >= now + horizon * 86400:
                continue
            if matches(m, call.query.get("searchKey")):
                found.append((start, m))
        found.sort(key=lambda p: p[0], reverse=call.query.get("sortType") == "DSC_StartTIME")
        items = [conference_info(m, user, now) for _, m in found]
        return page(self.oddities.items("upcoming", items), call.query)

    def online(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences/online`: meetings in progress with their online head count."""
        user = call.caller
        everyone = self._query_all(call)
        found = [
            m
            for m in self._book.running(user.scope, call.now)
            if (everyone or user.party in m.parties) and matches(m, call.query.get("searchKey"))
        ]
        found.sort(key=lambda m: m.session.started_at if m.session else 0.0)
        data = []
        for m in found:
            info = conference_info(m, user, call.now)
            info["onlineAttendeeAmount"] = len(m.participants)
            data.append(info)
        return page(self.oddities.items("online", data), call.query)

    def online_attendees(self, call: Call) -> dict[str, Any]:
        """`GET .../online/conf-attendee?conf_id=`: who is in the meeting now (snake_case)."""
        user = call.caller
        m = self._book.find(user, call.query.get("conf_id"), call.now)
        if m.session is None:
            raise NotStartedError()
        key = call.query.get("search_key") or ""
        rows = []
        for p in m.participants.values():
            if key not in (p.account_id or ""):
                continue
            party = (*m.scope, p.account_id) if p.account_id else None
            rows.append(
                {
                    "participant_id": p.pid,
                    "name": p.name,
                    "call_number": "",
                    "role": p.role,
                    "third_account": p.account_id or "",
                    "account": login_account(party) if party else "",
                    "user_id": user_uuid(party) if party else "",
                }
            )
        return page(rows, call.query)

    def history(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences/history`: ended sessions with their actual start and end."""
        user, query = call.caller, call.query
        self._book.running(user.scope, call.now)
        records = self._book.history(user, everyone=self._query_all(call))
        low = int_param(query, "startDate", 0) / 1000
        high = int_param(query, "endDate", 2**62) / 1000
        picked = [
            (m, s)
            for m, s in records
            if low <= s.started_at <= high and matches(m, query.get("searchKey"))
        ]
        picked.sort(key=lambda r: r[1].started_at, reverse=query.get("sortType") != "ASC_StartTIME")
        items = [history_info(m, s, user) for m, s in picked]
        return page(self.oddities.items("history", items), query)

    def control_token(self, call: Call) -> dict[str, Any]:
        """`GET /v1/mmc/control/conferences/token`: a conference-control token for the host."""
        conference_id = call.query.get("conferenceID") or ""
        m = self._book.meetings.get(conference_id)
        if m is not None:
            self._book.settle(m, call.now)
        if m is None or not m.booked or (call.user and call.user.scope != m.scope):
            raise NotFoundError()
        if call.headers.get("x-login-type") != "1":
            raise ParamError("X-Login-Type must be 1 (meeting password)")
        password = call.headers.get("x-password") or ""
        if hmac.compare_digest(password, m.chair_password):
            role = 1
        elif hmac.compare_digest(password, m.guest_password):
            role = 0
        else:
            raise SandboxError(401, "MMC.990000004", "wrong meeting password")
        if m.session is None:
            raise NotStartedError()
        token = secrets.token_urlsafe(32)
        expires_at = call.now + CONTROL_TOKEN_TTL_SECONDS
        self._book.grants[token] = ControlToken(conference_id, role, expires_at)
        return {
            "data": {
                "token": token,
                "tmpWsToken": secrets.token_urlsafe(16),
                "wsURL": f"wss://sandbox.meeting.invalid/cms/open/websocket/confctl/{conference_id}",
                "role": role,
                "expireTime": int(expires_at * 1000),
                "confTokenExpireTime": int(expires_at),
                "userID": m.owner.uuid if role == 1 else "",
                "orgID": m.scope[1],
                "participantID": "",
                "vmrCurrentConfID": "",
                "supportNotifyType": [],
            },
            "addressToken": "",
            "gloablPublicIP": "",
        }

    def stop(self, call: Call) -> None:
        """`PUT /v1/mmc/control/conferences/stop`: end the running session (host control token)."""
        conference_id = call.query.get("conferenceID") or ""
        grant = self._book.grants.get(call.headers.get("x-conference-authorization") or "")
        if grant is None or grant.conference_id != conference_id or call.now >= grant.expires_at:
            raise SandboxError(401, "MMC.990000003", "invalid conference control token")
        if grant.role != 1:
            raise SandboxError(403, "MMC.990000005", "only the host may end the meeting")
        m = self._book.meetings[conference_id]
        self._book.settle(m, call.now)
        if m.session is None:
            raise NotStartedError()
        self._book.close_session(m, call.now)
