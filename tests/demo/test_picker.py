"""The demo page's picker of where to type /meet: every kind of conversation, each saying
whether meetbot is in it, and a command typed there reaches the bot as Slack sends it."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.demo.emulator import Emulator, EmulatorConfig
from bot.demo.workspace import GENERAL, GROUP, LEADS, PLANNING, RANDOM, dm_id
from tests.fakes.asgi_server import serve_asgi

ANA_AND_BO = "DANABO"


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[Emulator, list[dict[str, str]]]]:
    """The emulator in front of a stand-in bot that records each request's form."""
    received: list[dict[str, str]] = []

    async def events(request: Request) -> Response:
        received.append(dict(urllib.parse.parse_qsl((await request.body()).decode())))
        return Response("")

    bot = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    with serve_asgi(bot) as bot_url:
        config = EmulatorConfig(
            events_url=f"{bot_url}/slack/events",
            signing_secret="s3cret",
            bot_token="xoxb-demo-test",
            sandbox_url="http://127.0.0.1:9",
            public_url="http://127.0.0.1:9",
        )
        async with Emulator(config) as emulator:
            yield emulator, received


async def test_the_picker_offers_every_kind_of_place_and_says_where_meetbot_is(
    emulator: tuple[Emulator, list[dict[str, str]]],
) -> None:
    page = emulator[0].page.page_state("UANA", GENERAL)
    places = {c["id"]: (c["kind"], c["bot"], c["label"]) for c in page["channels"]}
    assert places[GENERAL] == ("public", True, "general")
    assert places[RANDOM] == ("public", False, "random")
    assert places[PLANNING] == ("private", True, "planning")
    assert places[LEADS] == ("private", False, "leads")
    assert places[ANA_AND_BO] == ("im", False, "Bo")
    assert places[GROUP] == ("mpim", False, "Bo, 陈")
    assert places[dm_id("UANA")] == ("app", True, "meetbot")
    assert all(c["hint"] for c in page["channels"])


@pytest.mark.parametrize(
    ("channel", "name"),
    [
        pytest.param(GENERAL, "general", id="channel-with-the-bot"),
        pytest.param(RANDOM, "random", id="channel-without-the-bot"),
        pytest.param(PLANNING, "planning", id="private-channel"),
        pytest.param(LEADS, "privategroup", id="private-channel-old-id"),
        pytest.param(ANA_AND_BO, "directmessage", id="dm-with-a-colleague"),
        pytest.param(GROUP, "mpdm-ana--bo--陈-1", id="group-dm"),
        pytest.param(dm_id("UANA"), "directmessage", id="the-apps-dm"),
    ],
)
async def test_a_command_typed_anywhere_reaches_the_bot_as_slack_sends_it(
    emulator: tuple[Emulator, list[dict[str, str]]], channel: str, name: str
) -> None:
    demo, received = emulator
    demo.page.page_state("UANA", dm_id("UANA"))  # the app's DM exists once the page opened
    assert (await demo.relay.command("UANA", channel, "/meet help"))["ok"]
    assert (received[-1]["channel_id"], received[-1]["channel_name"]) == (channel, name)
    assert received[-1]["team_id"] == "T0DEMO"
