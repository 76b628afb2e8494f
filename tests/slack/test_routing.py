"""Where meetbot's messages go: whether the bot can post in a conversation (from what Slack
told about it), and a modal's origin kept in its private_metadata."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import blocks
from bot.slack.blocks import ModalOrigin
from bot.slack.notifier import Conversation, Notifier, Reach, decide_reach
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, SlackUser, build_fake_slack_app
from tests.slack.test_blocks import make_card

HOOK = "https://hooks.slack.com/commands/T1/1/abc"


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        pytest.param(
            {"is_channel": True, "is_member": True}, Reach.POST, id="public-channel-with-the-bot"
        ),
        pytest.param(
            {"is_channel": True, "is_member": False},
            Reach.JOIN,
            id="public-channel-without-the-bot-is-joined",
        ),
        pytest.param({}, Reach.JOIN, id="a-channel-told-nothing-more-is-tried-by-joining"),
        pytest.param(
            {"is_private": True, "is_member": True}, Reach.POST, id="private-channel-with-the-bot"
        ),
        pytest.param(
            {"is_private": True, "is_member": False},
            Reach.PEOPLE,
            id="private-channel-not-joined-takes-nothing",
        ),
        pytest.param({"is_im": True, "user": "UANA"}, Reach.POST, id="the-apps-own-dm"),
        pytest.param(
            {"is_mpim": True, "is_private": True, "is_member": True},
            Reach.PEOPLE,
            id="group-dm-goes-to-people-even-with-the-bot",
        ),
        pytest.param(
            {"is_channel": True, "is_member": True, "is_archived": True},
            Reach.PEOPLE,
            id="archived-channel",
        ),
    ],
)
def test_decide_reach_from_conversations_info(info: dict[str, object], expected: Reach) -> None:
    assert decide_reach(Conversation.from_info(info)) is expected


@pytest.mark.parametrize(
    "error",
    [
        pytest.param("channel_not_found", id="private-channel-or-dm-the-bot-cannot-see"),
        pytest.param("not_in_channel", id="not-in-channel"),
    ],
)
def test_a_refused_look_sends_to_people(error: str) -> None:
    assert decide_reach(Conversation(error=error)) is Reach.PEOPLE


def test_an_install_without_the_read_scopes_tries_to_join() -> None:
    assert decide_reach(Conversation(error="missing_scope")) is Reach.JOIN


def test_origin_round_trips_through_private_metadata() -> None:
    origin = ModalOrigin("C0GENERAL", HOOK)
    assert blocks.read_origin(blocks.origin_metadata(origin)) == origin


def test_origin_too_long_for_slack_keeps_the_channel_only() -> None:
    long_url = HOOK + "x" * blocks.PRIVATE_METADATA_MAX
    text = blocks.origin_metadata(ModalOrigin("C1", long_url))
    assert len(text) <= blocks.PRIVATE_METADATA_MAX
    assert blocks.read_origin(text) == ModalOrigin("C1", "")


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        pytest.param("C1", ModalOrigin("C1"), id="a-form-opened-before-the-json-origin"),
        pytest.param("C1 x", ModalOrigin(), id="not-json"),
        pytest.param("[1, 2]", ModalOrigin(), id="not-an-object"),
        pytest.param(json.dumps({"c": 5, "r": ["x"]}), ModalOrigin(), id="wrong-types"),
        pytest.param(
            json.dumps({"c": "C1 <!channel>", "r": HOOK}),
            ModalOrigin("", HOOK),
            id="a-channel-that-is-no-conversation-id",
        ),
        pytest.param(
            json.dumps({"c": "C1", "r": HOOK + "x" * 3000}),
            ModalOrigin(),
            id="over-slacks-limit",
        ),
    ],
)
def test_untrusted_private_metadata_reads_as_unknown(metadata: str, expected: ModalOrigin) -> None:
    assert blocks.read_origin(metadata) == expected


def test_private_card_is_the_card_and_says_how_to_add_the_bot() -> None:
    card = make_card()
    shown = blocks.render_card(card)["blocks"]
    message = blocks.render_private_card(card)
    assert message["blocks"][: len(shown)] == shown
    assert "/invite @meetbot" in json.dumps(message["blocks"][len(shown) :])
    assert "only you" in message["text"]


@pytest.mark.parametrize("method", ["conversations.info", "conversations.join"])
@pytest.mark.parametrize("error", ["ratelimited", "internal_error", "fatal_error"])
async def test_slack_not_answering_about_a_channel_concludes_nothing(
    method: str, error: str
) -> None:
    """A rate limit or an outage is no reason to send a channel's reminders by DM for good:
    the look is refused now (the caller retries later) and a later look decides."""
    slack = FakeSlack()
    slack.add_users(SlackUser("UANA", "T1", "Ana"))
    slack.add_channel("CNOBOT", "nobot", bot=False)
    with serve_asgi(build_fake_slack_app(slack)) as url:
        notifier = Notifier(AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/"))
        slack.fail[method] = [error]
        with pytest.raises(SlackApiError):
            await notifier.reach("CNOBOT")
        assert await notifier.reach("CNOBOT")  # Slack answers again: joined, postable
    assert [c.method for c in slack.calls][-2:] == ["conversations.info", "conversations.join"]


async def test_a_channel_the_bot_cannot_see_goes_to_people() -> None:
    slack = FakeSlack()
    with serve_asgi(build_fake_slack_app(slack)) as url:
        notifier = Notifier(AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/"))
        assert not await notifier.reach("CGHOST")
