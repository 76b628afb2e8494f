"""The sandbox's state: its clock, fault and oddity injection, request counts, the control API.

Transport-free: the HTTP layer (`bot.sandbox.app`) turns requests into `Call`s for the vendor
handlers of `Accounts` (appauth) and `Conferences` (meetings), which answer with what they return
or raise (`SandboxError`). State follows the clock lazily (`Bookings.settle`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from bot.huawei.models import AttendeeRole
from bot.huawei.paths import APPAUTH as APPAUTH_PATH
from bot.sandbox.accounts import Accounts
from bot.sandbox.bookings import Bookings
from bot.sandbox.conferences import Conferences
from bot.sandbox.model import Admission, Faults, Participant, SandboxApp
from bot.sandbox.oddities import Oddities
from bot.sandbox.render import meeting_record
from bot.sandbox.rules import SandboxError

__all__ = ["SandboxState"]


class SandboxState:
    """Apps, users, tokens and meetings (`Accounts`, `Bookings`), the clock, faults and stats.

    The public methods (start_meeting, join, advance ...) back `/_sandbox/`; one lock guards
    them and the vendor handlers alike.
    """

    def __init__(
        self,
        apps: Iterable[SandboxApp],
        *,
        clock: Callable[[], float] = time.time,
        token_ttl_seconds: int = 56326,
        latency_ms: float = 0,
    ) -> None:
        self._clock = clock
        self._offset = 0.0
        self._base_latency_ms = latency_ms
        # One lock: handlers run on the server's loop, the Python API from test threads.
        self._lock = threading.RLock()
        self._accounts = Accounts(apps, token_ttl_seconds=token_ttl_seconds)
        self._bookings = Bookings()
        self._conferences = Conferences(self._bookings)
        self._reset_faults_and_stats()

    def _reset_faults_and_stats(self) -> None:
        self._faults = Faults()
        self._conferences.oddities = Oddities()
        self._appauth_calls = 0
        self._appauth_by_user: dict[str, int] = {}
        self._requests: dict[str, int] = {}

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

    def set_oddities(
        self, *, fields: object = None, drop: object = None, extra: object = None
    ) -> None:
        """Replace the oddity configuration (see `Oddities`); no arguments clears it."""
        oddities = Oddities.from_json(fields=fields, drop=drop, extra=extra)
        with self._lock:
            self._conferences.oddities = oddities

    def stats(self) -> dict[str, Any]:
        """Every vendor request received (injected failures included), and appauth per user."""
        with self._lock:
            return {
                "appauth_calls": self._appauth_calls,
                "appauth_by_user": dict(self._appauth_by_user),
                "requests": dict(self._requests),
            }

    def reset(self) -> None:
        """Forget meetings, users, tokens, nonces, faults, oddities and stats (the clock keeps
        its offset)."""
        with self._lock:
            self._accounts.clear()
            self._bookings.clear()
            self._reset_faults_and_stats()

    def expire_tokens(self, user_id: str | None = None) -> int:
        """Invalidate every access token, or one third-party user's; returns how many."""
        with self._lock:
            return self._accounts.expire_tokens(user_id)

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

    # ------------------------------------------------------------------ control API (Python)

    def start_meeting(self, conference_id: str) -> str:
        """Start a booked meeting now; returns the new session's confUUID."""
        with self._lock:
            m = self._bookings.control_meeting(conference_id, self.now())
            if not m.booked:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the booking is over or cancelled")
            if m.session is not None:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the meeting is already in progress")
            return self._bookings.open_session(m, self.now()).conf_uuid

    def end_meeting(self, conference_id: str) -> None:
        """End the running session now."""
        with self._lock:
            m = self._bookings.control_meeting(conference_id, self.now())
            if m.session is None:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the meeting is not in progress")
            self._bookings.close_session(m, self.now())

    def join(self, conference_id: str, name: str, account_id: str | None = None) -> str:
        """A participant joins (starting a booked meeting); returns the participant id."""
        with self._lock:
            m = self._bookings.control_meeting(conference_id, self.now())
            if not m.booked:
                raise SandboxError(409, "SANDBOX.CONFLICT", "the booking is over or cancelled")
            if m.session is None:
                self._bookings.open_session(m, self.now())
            hosts = {
                a.get("accountId") for a in m.spec.attendees if a.get("role") == AttendeeRole.HOST
            }
            host = account_id is not None and (
                account_id == m.owner.party[2] or account_id in hosts
            )
            pid = str(m.next_pid)
            m.next_pid += 1
            role = AttendeeRole.HOST if host else AttendeeRole.GUEST
            m.participants[pid] = Participant(pid, name, account_id, role)
            return pid

    def leave(self, conference_id: str, participant_id: str) -> None:
        """A participant leaves (the meeting keeps running)."""
        with self._lock:
            m = self._bookings.control_meeting(conference_id, self.now())
            if m.participants.pop(participant_id, None) is None:
                raise SandboxError(404, "SANDBOX.NOT_FOUND", f"no participant {participant_id}")

    def meetings(self) -> list[dict[str, Any]]:
        """Every meeting the sandbox holds (any app), state evaluated now."""
        with self._lock:
            now = self.now()
            out = []
            for m in self._bookings.meetings.values():
                self._bookings.settle(m, now)
                out.append(meeting_record(m))
            return out
