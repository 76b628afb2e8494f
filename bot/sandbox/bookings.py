"""Where the sandbox keeps its meetings, and how the clock moves them along.

A meeting is booked until it is cancelled or its last slot is over; a session runs from its
start (a join, the control API or an instant booking) until it is ended or its length has
passed. The clock is applied lazily: `settle` brings one meeting up to `now` when it is read.
"""

from __future__ import annotations

import secrets
import uuid

from bot.sandbox.model import ControlToken, Meeting, Party, Scope, Session, User
from bot.sandbox.rules import NotFoundError, SandboxError

__all__ = ["Bookings"]


class Bookings:
    """Every meeting with its indexes: open bookings, running sessions and ended ones."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every meeting, session and conference-control grant."""
        self.meetings: dict[str, Meeting] = {}
        self.grants: dict[str, ControlToken] = {}
        """Conference-control tokens by value."""
        self._booked_by_party: dict[Party, dict[str, Meeting]] = {}
        self._booked_by_scope: dict[Scope, dict[str, Meeting]] = {}
        self._running: dict[Scope, dict[str, Meeting]] = {}
        self._history_by_scope: dict[Scope, list[tuple[Meeting, Session]]] = {}
        self._history_by_party: dict[Party, list[tuple[Meeting, Session]]] = {}

    def new_conference_id(self) -> str:
        """A 9-digit conference ID no meeting has."""
        while True:
            candidate = str(100_000_000 + secrets.randbelow(900_000_000))
            if candidate not in self.meetings:
                return candidate

    def add(self, m: Meeting) -> None:
        """Keep a new meeting, booked."""
        self.meetings[m.conference_id] = m
        self.book(m)

    def settle(self, m: Meeting, now: float) -> None:
        """Apply what the clock implies: auto-end a session, drop a booking that is over."""
        if m.session is not None and now >= m.session.started_at + m.length_s:
            self.close_session(m, m.session.started_at + m.length_s)
        if m.booked and m.session is None and now >= m.starts[-1] + m.length_s:
            self.unbook(m)

    def book(self, m: Meeting) -> None:
        """List `m` among the open bookings of its enterprise and of its parties."""
        self._booked_by_scope.setdefault(m.scope, {})[m.conference_id] = m
        for party in m.parties:
            self._booked_by_party.setdefault(party, {})[m.conference_id] = m

    def unbook(self, m: Meeting) -> None:
        """The booking is over (or cancelled, or about to be replaced by an edit)."""
        m.booked = False
        self._booked_by_scope.get(m.scope, {}).pop(m.conference_id, None)
        for party in m.parties:
            self._booked_by_party.get(party, {}).pop(m.conference_id, None)

    def open_session(self, m: Meeting, now: float) -> Session:
        """Start a session of `m` now."""
        session = m.session = Session(conf_uuid=uuid.uuid4().hex, started_at=now)
        m.sessions.append(session)
        self._running.setdefault(m.scope, {})[m.conference_id] = m
        return session

    def close_session(self, m: Meeting, at: float) -> None:
        """End the running session (if any) at `at`; it goes to the history."""
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

    def booked(self, user: User, *, everyone: bool) -> dict[str, Meeting]:
        """Open bookings of the user's enterprise (`everyone`) or of the user, not settled."""
        if everyone:
            return self._booked_by_scope.get(user.scope, {})
        return self._booked_by_party.get(user.party, {})

    def running(self, scope: Scope, now: float) -> list[Meeting]:
        """The enterprise's meetings in progress at `now`."""
        running = self._running.get(scope, {})
        for m in list(running.values()):
            self.settle(m, now)
        return list(running.values())

    def history(self, user: User, *, everyone: bool) -> list[tuple[Meeting, Session]]:
        """Ended sessions of the user's enterprise (`everyone`) or of the user's meetings."""
        if everyone:
            return self._history_by_scope.get(user.scope, [])
        return self._history_by_party.get(user.party, [])

    def find(self, user: User, conference_id: str | None, now: float) -> Meeting:
        """A meeting the caller may see; anything else is indistinguishable from not found."""
        m = self.meetings.get(conference_id or "")
        if m is None or m.scope != user.scope:
            raise NotFoundError
        self.settle(m, now)
        if not m.booked or not (user.admin or user.party in m.parties):
            raise NotFoundError
        return m

    def control_meeting(self, conference_id: str, now: float) -> Meeting:
        """Any meeting, by ID, for the control API (404 SANDBOX.NOT_FOUND)."""
        m = self.meetings.get(conference_id)
        if m is None:
            raise SandboxError(404, "SANDBOX.NOT_FOUND", f"no meeting {conference_id}")
        self.settle(m, now)
        return m
