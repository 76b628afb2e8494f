"""The real Bolt app (build_app) in this test's event loop, driven by signed requests, against
the fake Slack Web API over loopback HTTP and a service that records what it is asked."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import commands as cmd
from bot.config import Settings
from bot.service import Help, Invocation, MeetingService, Outcome
from bot.slack import blocks
from bot.slack.app import build_app
from bot.slack.priority import AckGate
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Call,
    FakeSlack,
    SlackUser,
    build_fake_slack_app,
    interaction_body,
    signed_headers,
    slash_command_body,
)

TEAM = "T1"
USER = "UANA"
CHANNEL = "C1"


@dataclass
class RecordingService:
    """Stands in for MeetingService in what the listeners call: records each call (the first,
    `first_time`, is where a guarded lazy listener starts) and answers with the help text."""

    log: list[str] = field(default_factory=list)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    called: asyncio.Event = field(default_factory=asyncio.Event)

    def _answer(self, method: str, *args: Any) -> Outcome:
        self.calls.append((method, args))
        self.called.set()
        return Help(is_admin=False)

    async def first_time(self, _scope: str, key: str) -> bool:
        self.log.append(f"lazy work of {key}")
        return True

    async def execute(self, invocation: Invocation, text: str) -> Outcome:
        return self._answer("execute", invocation, text)

    async def run(self, invocation: Invocation, command: cmd.Command) -> Outcome:
        return self._answer("run", invocation, command)

    async def cancel(self, invocation: Invocation, *, meeting_id: int) -> Outcome:
        return self._answer("cancel", invocation, meeting_id)

    async def start_now(self, invocation: Invocation, topic: str | None) -> Outcome:
        return self._answer("start_now", invocation, topic)

    async def schedule(self, invocation: Invocation, request: cmd.Schedule) -> Outcome:
        return self._answer("schedule", invocation, request)

    async def setup_app(
        self,
        invocation: Invocation,
        *,
        app_id: str,
        app_key: str | None,
        corp_id: str | None,
        mode: str,
    ) -> Outcome:
        return self._answer("setup_app", invocation, app_id, app_key, corp_id, mode)

    async def record_event(self, *, team_id: str, event: str) -> None:
        self._answer("record_event", team_id, event)


@dataclass
class Bolt:
    """Builds the app against the fakes and sends it requests as Slack would."""

    slack: FakeSlack
    slack_url: str
    service: RecordingService = field(default_factory=RecordingService)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def app(self, gate: AckGate | None = None) -> AsyncApp:
        settings = Settings(
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=f"{self.slack_url}/api/",
        )
        return build_app(settings, service=cast(MeetingService, self.service), gate=gate)

    def command(self, text: str, *, trigger_id: str | None = None) -> str:
        """A signed-to-be `/meet text` body; a given trigger_id also names its response_url
        (else the fake issues one)."""
        rid = trigger_id or f"trigger-{next(self._ids)}"
        return slash_command_body(
            text,
            user_id=USER,
            team_id=TEAM,
            channel_id=CHANNEL,
            response_url=f"{self.slack_url}/response/{rid}",
            trigger_id=trigger_id or self.slack.issue_trigger(USER),
        )

    def click(self, action_id: str, value: str) -> str:
        """A `block_actions` body: USER pressed the button `action_id` on a card."""
        rid = f"click-{next(self._ids)}"
        return interaction_body(
            {
                "type": "block_actions",
                "team": {"id": TEAM, "domain": "t1"},
                "user": {"id": USER, "team_id": TEAM, "name": "ana"},
                "api_app_id": "A1",
                "trigger_id": rid,
                "channel": {"id": CHANNEL, "name": "general"},
                "container": {"type": "message", "message_ts": "1.000001", "channel_id": CHANNEL},
                "message": {"ts": "1.000001", "text": "card"},
                "response_url": f"{self.slack_url}/response/{rid}",
                "actions": [{"type": "button", "action_id": action_id, "value": value}],
            }
        )

    def submit(self, callback_id: str, values: dict[str, Any]) -> str:
        """A `view_submission` body of the modal `callback_id` opened from CHANNEL."""
        view = {
            "id": f"V{next(self._ids)}",
            "team_id": TEAM,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": blocks.origin_metadata(
                blocks.ModalOrigin(CHANNEL, f"{self.slack_url}/response/{next(self._ids)}")
            ),
            "state": {"values": values},
        }
        return interaction_body(
            {
                "type": "view_submission",
                "team": {"id": TEAM, "domain": "t1"},
                "user": {"id": USER, "team_id": TEAM, "name": "ana"},
                "api_app_id": "A1",
                "trigger_id": "trigger-view",
                "view": view,
            }
        )

    @staticmethod
    def event(event_type: str) -> str:
        """An Events API callback (JSON) of `event_type` for TEAM."""
        return json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "api_app_id": "A1",
                "event": {"type": event_type, "event_ts": "1.000001"},
                "event_id": "Ev1",
                "event_time": 1,
            }
        )

    @staticmethod
    def request(body: str) -> AsyncBoltRequest:
        headers = signed_headers(body)
        if body.startswith("{"):
            headers["Content-Type"] = "application/json"
        return AsyncBoltRequest(body=body, headers=dict(headers))

    @staticmethod
    async def deliver(app: AsyncApp, gate: AckGate, body: str) -> BoltResponse:
        """Dispatch `body` the way bot/server.py does: counted in `gate` until it is answered."""
        gate.enter()
        try:
            return await app.async_dispatch(Bolt.request(body))
        finally:
            gate.leave()

    async def service_called(self) -> None:
        """Wait until a lazy listener called the service."""
        async with asyncio.timeout(10):
            await self.service.called.wait()

    async def answered(self, method: str, count: int) -> list[Call]:
        """Wait (in a thread: the fake's wait blocks) until Slack received `count` `method` calls."""
        return await asyncio.to_thread(self.slack.wait_for, method, count)


async def settle() -> None:
    """Let every task that is ready run until it waits on something: a lazy listener that is
    free to start has started by then (no clock involved; one turn of the loop is enough)."""
    for _ in range(10):
        await asyncio.sleep(0)


@pytest.fixture
def bolt() -> Iterator[Bolt]:
    state = FakeSlack()
    state.add_users(SlackUser(USER, TEAM, "Ana", email="ana@example.com"))
    with serve_asgi(build_fake_slack_app(state)) as url:
        yield Bolt(state, url)
