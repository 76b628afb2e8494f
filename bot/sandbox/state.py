"""The sandbox's state and vendor semantics: apps, users, tokens, meetings, sessions, history.

Transport-free: the HTTP layer (`bot.sandbox.app`) turns requests into `Call`s and answers
with what these handlers return or raise (`SandboxError`). State follows the clock lazily.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from bot.huawei.signature import NONCE_MAX, NONCE_MIN, SignMode, signed_data
from bot.sandbox.model import (
    Admission,
    Call,
    ControlToken,
    Faults,
    Meeting,
    Participant,
    Party,
    SandboxApp,
    Scope,
    Session,
    User,
    is_host,
    login_account,
    matches,
    parties,
    stable_hex,
    user_uuid,
)
from bot.sandbox.render import conference_info, history_info, participant_info
from bot.sandbox.rules import (
    ParamError,
    SandboxError,
    auth_error,
    expand_cycle,
    format_wire_time,
    int_param,
    parse_authorization,
    parse_meeting_spec,
    sign_mode,
    zone_for,
)

__all__ = ["SandboxState"]

APPAUTH_PATH: Final = "/v2/usg/acs/auth/appauth"
FAKE_HOST: Final = "https://sandbox.meeting.invalid"
MAX_TOKENS_PER_USER: Final = 64
REFRESH_TTL_SECONDS: Final = 2_592_000
CONTROL_TOKEN_TTL_SECONDS: Final = 1800
PAGE_MAX: Final = 500

_NOT_FOUND = (400, "MMC.111070005", "the meeting does not exist or has ended")
_NOT_STARTED = (400, "MMC.111072005", "the meeting has not started or has already ended")


def _err(spec: tuple[int, str, str]) -> SandboxError:
    return SandboxError(*spec)


def _digits(n: int) -> str:
    # One draw for the whole string: secrets.choice per digit costs a getrandom() call each.
    return f"{secrets.randbelow(10**n):0{n}d}"


def _page(items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    offset = int_param(query, "offset", 0)
    limit = int_param(query, "limit", 20, low=1, high=PAGE_MAX)
    return {
        "offset": offset,
        "limit": limit,
        "count": len(items),
        "data": items[offset : offset + limit],
    }


class SandboxState:
    """Apps, users, tokens and meetings; vendor handlers take a `Call`.

    The public non-handler methods (start_meeting, join, advance ...) back `/_sandbox/`.
    """

    def __init__(
        self,
        apps: Iterable[SandboxApp],
        *,
        clock: Callable[[], float] = time.time,
        token_ttl_seconds: int = 56326,
        latency_ms: float = 0,
    ) -> None:
        self._apps = {a.app_id: a for a in apps}
        self._clock = clock
        self._offset = 0.0
        self._token_ttl = token_ttl_seconds
        self._base_latency_ms = latency_ms
        # One lock: handlers run on the server's loop, the Python API from test threads.
        self._lock = threading.RLock()
        self._reset_state()

    def _reset_state(self) -> None:
        self._users: dict[Party, User] = {}
        self._tokens: dict[str, tuple[User, float]] = {}
        self._tokens_by_party: dict[Party, deque[str]] = {}
        self._nonces: dict[tuple[str, str], float] = {}
        self._nonce_expiry: list[tuple[float, str, str]] = []
        self._meetings: dict[str, Meeting] = {}
        self._booked_by_party: dict[Party, dict[str, Meeting]] = {}
        self._booked_by_scope: dict[Scope, dict[str, Meeting]] = {}
        self._running: dict[Scope, dict[str, Meeting]] = {}
        self._history_by_scope: dict[Scope, list[tuple[Meeting, Session]]] = {}
        self._history_by_party: dict[Party, list[tuple[Meeting, Session]]] = {}
        self._control_tokens: dict[str, ControlToken] = {}
        self._faults = Faults()
        self._appauth_calls = 0
        self._appauth_by_user: dict[str, int] = {}
        self._requests: dict[str, int] = {}

    # ------------------------------------------------------------------ clock, faults, stats

    def now(self) -> float:
        """The sandbox clock: the injected clock plus every `advance`."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back); returns the new now."""
        if seconds < 0:
            raise SandboxError(400, "SANDBOX.BAD_REQUEST", "the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self.now()

    def set_faults(
        self,
        *,
        latency_ms: float = 0.0,
        fail_next: int = 0,
        fail_status: int = 503,
        timeout_next: int = 0,
        timeout_seconds: float = 30.0,
        path_prefix: str = "",
        method: str | None = None,
    ) -> None:
        """Replace the fault configuration; no arguments clears every fault."""
        if not 400 <= fail_status <= 599 or min(latency_ms, fail_next, timeout_next) < 0:
            raise SandboxError(400, "SANDBOX.BAD_REQUEST", "invalid fault configuration")
        with self._lock:
            self._faults = Faults(
                latency_ms=latency_ms,
                fail_next=fail_next,
                fail_status=fail_status,
                timeout_next=timeout_next,
                timeout_seconds=timeout_seconds,
                path_prefix=path_prefix,
                method=method.upper() if method else None,
            )

    def stats(self) -> dict[str, Any]:
        """Every vendor request received (injected failures included), and appauth per user."""
        with self._lock:
            return {
                "appauth_calls": self._appauth_calls,
                "appauth_by_user": dict(self._appauth_by_user),
                "requests": dict(self._requests),
            }

    def reset(self) -> None:
        """Forget meetings, users, tokens, nonces, faults and stats (the clock keeps its offset)."""
        with self._lock:
            self._reset_state()

    def expire_tokens(self, user_id: str | None = None) -> int:
        """Invalidate every access token, or one third-party user's; returns how many."""
        with self._lock:
            if user_id is None:
                count = len(self._tokens)
                self._tokens.clear()
                self._tokens_by_party.clear()
                return count
            count = 0
            for party in [p for p in self._tokens_by_party if p[2] == user_id]:
                for token in self._tokens_by_party.pop(party):
                    count += self._tokens.pop(token, None) is not None
            return count

    def admit(self, method: str, path: str, body: bytes) -> Admission:
        """Count a vendor request and decide its injected fault and delay."""
        with self._lock:
            self._count(method, path, body)
            faults = self._faults
            return Admission(
                fault=faults.take(method, path),
                delay_s=(self._base_latency_ms + faults.latency_ms) / 1000,
                fail_status=faults.fail_status,
                timeout_s=faults.timeout_seconds,
            )

    def _count(self, method: str, path: str, body: bytes) -> None:
        key = f"{method} {path}"
        self._requests[key] = self._requests.get(key, 0) + 1
        if path == APPAUTH_PATH:
            self._appauth_calls += 1
            try:
                user = json.loads(body).get("userId") or ""
            except (ValueError, AttributeError):
                user = ""
            self._appauth_by_user[str(user)] = self._appauth_by_user.get(str(user), 0) + 1

    # ------------------------------------------------------------------ authentication

    def appauth(self, call: Call) -> dict[str, Any]:
        """`POST /v2/usg/acs/auth/appauth`: verify the signed request, issue an access token."""
        try:
            body = json.loads(call.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise auth_error("USG.990000001", "the body must be a JSON object", 400)
        app_id, client_type = body.get("appId"), body.get("clientType")
        expire, nonce = body.get("expireTime"), body.get("nonce")
        user_id, corp_id = body.get("userId") or "", body.get("corpId") or ""
        if not isinstance(app_id, str) or not app_id:
            raise auth_error("USG.990000001", "appId is required", 400)
        if isinstance(client_type, bool) or not isinstance(client_type, int):
            raise auth_error("USG.990000001", "clientType is required (72 for API calls)", 400)
        if isinstance(expire, bool) or not isinstance(expire, int) or expire < 0:
            raise auth_error("USG.990000001", "expireTime must be epoch seconds", 400)
        if not isinstance(nonce, str) or not NONCE_MIN <= len(nonce) <= NONCE_MAX:
            raise auth_error("USG.990000001", "nonce must have 32-64 characters", 400)
        if not isinstance(user_id, str) or not isinstance(corp_id, str):
            raise auth_error("USG.990000001", "userId and corpId must be strings", 400)
        app = self._apps.get(app_id)
        if app is None:
            raise auth_error("USG.990000003", "unknown appId")
        signature = parse_authorization(call.headers.get("authorization"), app_id)
        mode = sign_mode(app.corp_id, user_id=user_id, corp_id=corp_id)
        data = signed_data(
            mode, app_id=app_id, expire_time=expire, nonce=nonce, user_id=user_id, corp_id=corp_id
        )
        expected = hmac.new(app.app_key.encode(), data.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise auth_error("USG.990000004", "signature verification failed")
        if expire != 0 and call.now > expire:
            raise auth_error("USG.990000005", "the signature has expired (expireTime)")
        self._prune_nonces(call.now)
        if (app_id, nonce) in self._nonces:
            raise auth_error("USG.990000006", "the nonce has already been used")
        self._nonces[(app_id, nonce)] = float("inf") if expire == 0 else float(expire)
        if expire:
            heapq.heappush(self._nonce_expiry, (float(expire), app_id, nonce))
        user = self._login(app, mode, user_id, corp_id, body.get("userName"))
        return self._issue_token(user, call)

    def _prune_nonces(self, now: float) -> None:
        heap = self._nonce_expiry
        while heap and heap[0][0] < now:
            _, app_id, nonce = heapq.heappop(heap)
            self._nonces.pop((app_id, nonce), None)

    def _login(
        self, app: SandboxApp, mode: SignMode, user_id: str, corp_id: str, name: Any
    ) -> User:
        party = (app.app_id, corp_id, user_id)
        user = self._users.get(party)
        if user is None:
            user = User(
                uuid=user_uuid(party),
                party=party,
                scope=(app.app_id, app.corp_id or ""),
                name=name if isinstance(name, str) and name else user_id or "Administrator",
                login_account=login_account(party),
                admin=not user_id,
                user_type=1 if mode is SignMode.SP_ADMIN else 2,
            )
            self._users[party] = user
        return user

    def _issue_token(self, user: User, call: Call) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        now = call.now
        self._tokens[token] = (user, now + self._token_ttl)
        issued = self._tokens_by_party.setdefault(user.party, deque())
        issued.append(token)
        if len(issued) > MAX_TOKENS_PER_USER:
            self._tokens.pop(issued.popleft(), None)
        app_id, _, third = user.party
        return {
            "accessToken": token,
            "tokenIp": call.client_ip,
            "validPeriod": self._token_ttl,
            "expireTime": int(now + self._token_ttl),
            "createTime": int(now * 1000),
            "refreshToken": secrets.token_urlsafe(32),
            "refreshValidPeriod": REFRESH_TTL_SECONDS,
            "refreshExpireTime": int(now + REFRESH_TTL_SECONDS),
            "refreshCreateTime": int(now * 1000),
            "tokenType": 0,
            "clientType": 72,
            "firstLogin": False,
            "pwdExpired": False,
            "daysPwdAvailable": 0,
            "delayDelete": False,
            "user": {
                "userId": user.uuid,
                "ucloginAccount": user.login_account,
                "thirdAccount": third,
                "appId": app_id,
                "companyId": user.scope[1] or stable_hex("corp", app_id)[:16],
                "spId": "",
                "name": user.name,
                "nameEn": "",
                "status": 0,
                "userType": user.user_type,
                "adminType": 0 if user.admin else 2,
                "corpType": 6,
                "freeUser": False,
                "weLinkUser": False,
            },
        }

    def authenticate(self, token: str | None, now: float) -> User:
        """The user behind an `X-Access-Token`, or 401 USG.000000004."""
        entry = self._tokens.get(token or "")
        if entry is None or now >= entry[1]:
            raise auth_error("USG.000000004", "the access token is invalid or has expired")
        return entry[0]

    # ------------------------------------------------------------------ meeting state

    def _settle(self, m: Meeting, now: float) -> None:
        """Apply what the clock implies: auto-end a session, drop a booking that is over."""
        if m.session is not None and now >= m.session.started_at + m.length_s:
            self._close_session(m, m.session.started_at + m.length_s)
        if m.booked and m.session is None and now >= m.starts[-1] + m.length_s:
            self._drop_booking(m)

    def _add_booking(self, m: Meeting) -> None:
        self._booked_by_scope.setdefault(m.scope, {})[m.conference_id] = m
        for party in m.parties:
            self._booked_by_party.setdefault(party, {})[m.conference_id] = m

    def _drop_booking(self, m: Meeting) -> None:
        m.booked = False
        self._booked_by_scope.get(m.scope, {}).pop(m.conference_id, None)
        for party in m.parties:
            self._booked_by_party.get(party, {}).pop(m.conference_id, None)

    def _open_session(self, m: Meeting, now: float) -> Session:
        session = m.session = Session(conf_uuid=uuid.uuid4().hex, started_at=now)
        m.sessions.append(session)
        self._running.setdefault(m.scope, {})[m.conference_id] = m
        return session

    def _close_session(self, m: Meeting, at: float) -> None:
        session = m.session
        if session is None:
            return
        session.ended_at = at
        m.session = None
        m.participants.clear()
        self._running.get(m.scope, {}).pop(m.conference_id, None)
        record = (m, session)
        self._history_by_scope.setdefault(m.scope, []).append(record)
        for party in m.parties:
            self._history_by_party.setdefault(party, []).append(record)

    def _settle_running(self, scope: Scope, now: float) -> list[Meeting]:
        running = self._running.get(scope, {})
        for m in list(running.values()):
            self._settle(m, now)
        return list(running.values())

    def _find(self, user: User, conference_id: str | None, now: float) -> Meeting:
        """A meeting the caller may see; anything else is indistinguishable from not found."""
        m = self._meetings.get(conference_id or "")
        if m is None or m.scope != user.scope:
            raise _err(_NOT_FOUND)
        self._settle(m, now)
        if not m.booked or not (user.admin or user.party in m.parties):
            raise _err(_NOT_FOUND)
        return m

    def _control_meeting(self, conference_id: str) -> Meeting:
        m = self._meetings.get(conference_id)
        if m is None:
            raise SandboxError(404, "SANDBOX.NOT_FOUND", f"no meeting {conference_id}")
        self._settle(m, self.now())
        return m

    def _new_conference_id(self) -> str:
        while True:
            candidate = str(100_000_000 + secrets.randbelow(900_000_000))
            if candidate not in self._meetings:
                return candidate

    # ------------------------------------------------------------------ meeting API

    def create(self, call: Call, *, recurring: bool = False) -> list[dict[str, Any]]:
        """`POST .../conferences` and `.../cycleconferences`: book (and maybe start) a meeting."""
        user = call.caller
        spec = parse_meeting_spec(
            call.json(), app_id=user.scope[0], now=call.now, recurring=recurring
        )
        if spec.start is None:
            starts, conf_type = [call.now], "IMMEDIATELY"
        elif spec.cycle is not None:
            zone = zone_for(spec.time_zone_id)
            starts, conf_type = expand_cycle(spec.cycle, first_start=spec.start, zone=zone), "CYCLE"
            if not starts:
                raise ParamError("cycleParams yields no sub-meeting")
        else:
            starts, conf_type = [spec.start], "FUTURE"
        conference_id = self._new_conference_id()
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
        self._meetings[conference_id] = m
        self._add_booking(m)
        if conf_type == "IMMEDIATELY":
            self._open_session(m, call.now)
        return [conference_info(m, user, call.now)]

    def edit(self, call: Call, *, recurring: bool = False) -> list[dict[str, Any]]:
        """`PUT .../conferences?conferenceID=` (and `.../cycleconferences` for a recurring
        meeting): replace a booking that has not started."""
        user = call.caller
        m = self._find(user, call.query.get("conferenceID"), call.now)
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
        self._drop_booking(m)
        m.spec, m.starts, m.sub_ids = spec, starts, sub_ids
        m.parties, m.booked = parties(m.owner, spec), True
        self._add_booking(m)
        return [conference_info(m, user, call.now)]

    def cancel(self, call: Call) -> None:
        """`DELETE .../conferences` (and cycleconferences): type=1 also ends a running meeting."""
        user = call.caller
        m = self._find(user, call.query.get("conferenceID"), call.now)
        if not is_host(user, m):
            raise SandboxError(403, "MMC.990000005", "only the organizer or an admin may cancel")
        if m.session is not None:
            if int_param(call.query, "type", 0, high=1) != 1:
                raise SandboxError(
                    400, "MMC.990000002", "the meeting is in progress; cancel it with type=1"
                )
            self._close_session(m, call.now)
        m.cancelled = True
        self._drop_booking(m)

    def detail(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences/confDetail`: the meeting plus its invited participants."""
        user = call.caller
        m = self._find(user, call.query.get("conferenceID"), call.now)
        key = (call.query.get("searchKey") or "").lower()
        people = [
            participant_info(i, a, m.scope[0])
            for i, a in enumerate(m.spec.attendees, 1)
            if key in str(a.get("name", "")).lower() or key in str(a.get("accountId", "")).lower()
        ]
        info = conference_info(m, user, call.now)
        info["role"] = "chair" if is_host(user, m) else "general"
        return {"conferenceData": info, "data": _page(people, call.query)}

    def _query_all(self, call: Call) -> bool:
        return call.caller.admin and call.query.get("queryAll") == "true"

    def list_meetings(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences`: the caller's (or, admin + queryAll, everyone's) open bookings."""
        user, now = call.caller, call.now
        pool = (
            self._booked_by_scope.get(user.scope, {})
            if self._query_all(call)
            else self._booked_by_party.get(user.party, {})
        )
        for m in list(pool.values()):
            self._settle(m, now)
        horizon = {"ADAY": 1, "AWEEK": 7, "AMONTH": 30}.get(call.query.get("queryConfMode", ""))
        found = []
        for m in pool.values():
            start = m.starts[m.slot(now)]
            if horizon is not None and start >= now + horizon * 86400:
                continue
            if matches(m, call.query.get("searchKey")):
                found.append((start, m))
        found.sort(key=lambda p: p[0], reverse=call.query.get("sortType") == "DSC_StartTIME")
        return _page([conference_info(m, user, now) for _, m in found], call.query)

    def online(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences/online`: meetings in progress with their online head count."""
        user = call.caller
        everyone = self._query_all(call)
        found = [
            m
            for m in self._settle_running(user.scope, call.now)
            if (everyone or user.party in m.parties) and matches(m, call.query.get("searchKey"))
        ]
        found.sort(key=lambda m: m.session.started_at if m.session else 0.0)
        data = []
        for m in found:
            info = conference_info(m, user, call.now)
            info["onlineAttendeeAmount"] = len(m.participants)
            data.append(info)
        return _page(data, call.query)

    def online_attendees(self, call: Call) -> dict[str, Any]:
        """`GET .../online/conf-attendee?conf_id=`: who is in the meeting now (snake_case)."""
        user = call.caller
        m = self._find(user, call.query.get("conf_id"), call.now)
        if m.session is None:
            raise _err(_NOT_STARTED)
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
        return _page(rows, call.query)

    def history(self, call: Call) -> dict[str, Any]:
        """`GET .../conferences/history`: ended sessions with their actual start and end."""
        user, query = call.caller, call.query
        self._settle_running(user.scope, call.now)
        records = (
            self._history_by_scope.get(user.scope, [])
            if self._query_all(call)
            else self._history_by_party.get(user.party, [])
        )
        low = int_param(query, "startDate", 0) / 1000
        high = int_param(query, "endDate", 2**62) / 1000
        picked = [
            (m, s)
            for m, s in records
            if low <= s.started_at <= high and matches(m, query.get("searchKey"))
        ]
        picked.sort(key=lambda r: r[1].started_at, reverse=query.get("sortType") != "ASC_StartTIME")
        return _page([history_info(m, s, user) for m, s in picked], query)

    def control_token(self, call: Call) -> dict[str, Any]:
        """`GET /v1/mmc/control/conferences/token`: a conference-control token for the host."""
        conference_id = call.query.get("conferenceID") or ""
        m = self._meetings.get(conference_id)
        if m is not None:
            self._settle(m, call.now)
        if m is None or not m.booked or (call.user and call.user.scope != m.scope):
            raise _err(_NOT_FOUND)
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
            raise _err(_NOT_STARTED)
        token = secrets.token_urlsafe(32)
        expires_at = call.now + CONTROL_TOKEN_TTL_SECONDS
        self._control_tokens[token] = ControlToken(conference_id, role, expires_at)
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
        grant = self._control_tokens.get(call.headers.get("x-conference-authorization") or "")
        if grant is None or grant.conference_id != conference_id or call.now >= grant.expires_at:
            raise SandboxError(401, "MMC.990000003", "invalid conference control token")
        if grant.role != 1:
            raise SandboxError(403, "MMC.990000005", "only the host may end the meeting")
        m = self._meetings[conference_id]
        self._settle(m, call.now)
        if m.session is None:
            raise _err(_NOT_STARTED)
        self._close_session(m, call.now)

    # ------------------------------------------------------------------ control API (Python)

    def start_meeting(self, conference_id: str) -> str:
        """Start a booked meeting now; returns the new session's confUUID."""
        with self._lock:
            m = self._control_meeting(conference_id)
            if not m.booked:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the booking is over or cancelled")
            if m.session is not None:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the meeting is already in progress")
            return self._open_session(m, self.now()).conf_uuid

    def end_meeting(self, conference_id: str) -> None:
        """End the running session now."""
        with self._lock:
            m = self._control_meeting(conference_id)
            if m.session is None:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the meeting is not in progress")
            self._close_session(m, self.now())

    def join(self, conference_id: str, name: str, account_id: str | None = None) -> str:
        """A participant joins (starting a booked meeting); returns the participant id."""
        with self._lock:
            m = self._control_meeting(conference_id)
            if not m.booked:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the booking is over or cancelled")
            if m.session is None:
                self._open_session(m, self.now())
            hosts = {a.get("accountId") for a in m.spec.attendees if a.get("role") == 1}
            host = account_id is not None and (
                account_id == m.owner.party[2] or account_id in hosts
            )
            pid = str(m.next_pid)
            m.next_pid += 1
            m.participants[pid] = Participant(pid, name, account_id, 1 if host else 0)
            return pid

    def leave(self, conference_id: str, participant_id: str) -> None:
        """A participant leaves (the meeting keeps running)."""
        with self._lock:
            m = self._control_meeting(conference_id)
            if m.participants.pop(participant_id, None) is None:
                raise SandboxError(404, "SANDBOX.NOT_FOUND", f"no participant {participant_id}")

    def meetings(self) -> list[dict[str, Any]]:
        """Every meeting the sandbox holds (any app), state evaluated now."""
        with self._lock:
            now = self.now()
            out = []
            for m in self._meetings.values():
                self._settle(m, now)
                state = (
                    "Cancelled"
                    if m.cancelled
                    else "Created"
                    if m.session
                    else "Schedule"
                    if m.booked
                    else "Ended"
                )
                out.append(
                    {
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
                            {"conf_uuid": s.conf_uuid, "start": s.started_at, "end": s.ended_at}
                            for s in m.sessions
                        ],
                    }
                )
            return out
