"""The emulator's Web API answers like Slack: threads, edits, metadata, ephemerals, modals."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo.workspace import BOT, GENERAL, LEADS, RANDOM, TEAM_ID, WebApi, Workspace
from tests.demo.clock import Clock

TOKEN = "xoxb-demo"


@pytest.fixture
def api(clock: Clock) -> WebApi:
    ws = Workspace.demo(clock)
    ws.install(TEAM_ID, installer="UANA", token=TOKEN)
    return WebApi(ws, public_url="http://127.0.0.1:1")


def call(api: WebApi, method: str, **args: Any) -> dict[str, Any]:
    return api.call(method, args, TOKEN)


SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "card"}}]


def test_a_wrong_or_missing_token_is_refused(api: WebApi) -> None:
    assert api.call("auth.test", {}, "xoxb-other") == {"ok": False, "error": "invalid_auth"}
    assert api.call("auth.test", {}, None) == {"ok": False, "error": "not_authed"}
    assert call(api, "auth.test")["user_id"] == BOT.id
    assert call(api, "chat.frobnicate") == {"ok": False, "error": "unknown_method"}


def test_thread_replies_and_history_with_metadata(api: WebApi) -> None:
    meta = {"event_type": "meetbot_card", "event_payload": {"meeting_id": 7}}
    card = call(
        api, "chat.postMessage", channel=GENERAL, text="card", blocks=SECTION, metadata=meta
    )
    assert card["ok"]
    assert card["message"]["blocks"][0]["block_id"]  # Slack names every block
    reply = call(
        api,
        "chat.postMessage",
        channel=GENERAL,
        thread_ts=card["ts"],
        text="reminder",
        metadata={"event_type": "meetbot_delivery", "event_payload": {"delivery_id": 9}},
    )
    assert reply["message"]["thread_ts"] == card["ts"]
    plain = call(api, "conversations.history", channel=GENERAL)
    assert [m["ts"] for m in plain["messages"]] == [card["ts"]]  # replies stay in the thread
    assert plain["messages"][0]["reply_count"] == 1
    assert "metadata" not in plain["messages"][0]
    full = call(api, "conversations.history", channel=GENERAL, include_all_metadata="true")
    assert full["messages"][0]["metadata"] == meta
    thread = call(
        api, "conversations.replies", channel=GENERAL, ts=card["ts"], include_all_metadata=True
    )
    assert [m["ts"] for m in thread["messages"]] == [card["ts"], reply["ts"]]
    assert thread["messages"][1]["metadata"]["event_payload"] == {"delivery_id": 9}
    assert call(api, "chat.postMessage", channel=GENERAL, thread_ts="1.000001", text="x") == {
        "ok": False,
        "error": "thread_not_found",
    }


def test_history_window_and_paging(api: WebApi, clock: Clock) -> None:
    stamps = []
    for n in range(5):
        clock.now += 10
        stamps.append(call(api, "chat.postMessage", channel=GENERAL, text=f"m{n}")["ts"])
    page = call(api, "conversations.history", channel=GENERAL, oldest=stamps[1], limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"]
    assert page["has_more"] is True
    rest = call(
        api,
        "conversations.history",
        channel=GENERAL,
        oldest=stamps[1],
        limit=2,
        cursor=page["response_metadata"]["next_cursor"],
    )
    assert [m["text"] for m in rest["messages"]] == ["m2"]
    assert rest["has_more"] is False


def test_update_keeps_what_it_is_not_given(api: WebApi) -> None:
    card = call(api, "chat.postMessage", channel=GENERAL, text="card", blocks=SECTION)
    updated = call(api, "chat.update", channel=GENERAL, ts=card["ts"], text="live")
    assert updated["message"]["text"] == "live"
    assert updated["message"]["blocks"][0]["text"]["text"] == "card"
    cleared = call(api, "chat.update", channel=GENERAL, ts=card["ts"], text="t", blocks=[])
    assert "blocks" not in cleared["message"]
    assert call(api, "chat.update", channel=GENERAL, ts="9.000001", text="x")["error"] == (
        "message_not_found"
    )


def test_ephemeral_messages_are_private_and_cannot_be_updated(api: WebApi) -> None:
    sent = call(api, "chat.postEphemeral", channel=GENERAL, user="UBO", text="psst")
    assert sent["ok"]
    assert call(api, "conversations.history", channel=GENERAL)["messages"] == []
    assert call(api, "chat.update", channel=GENERAL, ts=sent["message_ts"], text="x")["error"] == (
        "message_not_found"
    )


def test_the_bot_must_be_in_the_channel_unless_it_is_public(api: WebApi) -> None:
    assert call(api, "chat.postMessage", channel=RANDOM, text="hi")["ok"]  # chat:write.public
    assert call(api, "chat.postMessage", channel=LEADS, text="hi")["error"] == "channel_not_found"
    assert call(api, "chat.postMessage", channel="C404", text="hi")["error"] == "channel_not_found"
    assert call(api, "chat.postMessage", channel=GENERAL)["error"] == "no_text"


def test_direct_messages_open_once_and_accept_a_user_id_as_channel(api: WebApi) -> None:
    opened = call(api, "conversations.open", users="UCHEN")
    again = call(api, "conversations.open", users="UCHEN")
    assert opened["channel"]["id"] == again["channel"]["id"] == "DUCHEN"
    assert again["already_open"] is True
    assert call(api, "chat.postMessage", channel="UCHEN", text="hi")["channel"] == "DUCHEN"
    assert call(api, "conversations.open", users="UNOBODY")["error"] == "user_not_found"


def test_a_trigger_opens_one_modal_within_three_seconds(api: WebApi, clock: Clock) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Schedule"}, "blocks": []}
    trigger = api.ws.issue_trigger("UANA")
    opened = call(api, "views.open", trigger_id=trigger, view=view)
    assert opened["ok"]
    assert api.ws.top_modal("UANA") is not None
    assert call(api, "views.open", trigger_id=trigger, view=view)["error"] == (
        "exchanged_trigger_id"
    )
    assert call(api, "views.open", trigger_id="1.2.x", view=view)["error"] == "invalid_trigger_id"
    late = api.ws.issue_trigger("UANA")
    clock.now += 3.5
    assert call(api, "views.open", trigger_id=late, view=view)["error"] == "expired_trigger_id"
    updated = call(
        api, "views.update", view_id=opened["view"]["id"], view={**view, "blocks": SECTION}
    )
    assert updated["view"]["blocks"][0]["text"]["text"] == "card"
    long_title = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    fresh = api.ws.issue_trigger("UANA")
    assert call(api, "views.open", trigger_id=fresh, view=long_title)["error"] == (
        "invalid_arguments"
    )


def test_calls_lifecycle(api: WebApi, clock: Clock) -> None:
    added = call(
        api,
        "calls.add",
        external_unique_id="123456789",
        join_url="https://sandbox.meeting.invalid/j/1",
        title="Retro",
        users=[{"slack_id": "UANA"}],
    )
    call_id = added["call"]["id"]
    assert call(api, "calls.participants.add", id=call_id, users=[{"slack_id": "UBO"}])["ok"]
    assert call(api, "calls.participants.remove", id=call_id, users=[{"slack_id": "UANA"}])["ok"]
    assert call(api, "calls.info", id=call_id)["call"]["users"] == [{"slack_id": "UBO"}]
    clock.now += 600
    assert call(api, "calls.end", id=call_id)["ok"]
    assert call(api, "calls.info", id=call_id)["call"]["duration"] == 600
    assert call(api, "calls.end", id=call_id)["error"] == "already_ended"
    assert call(api, "calls.info", id="R404")["error"] == "invalid_call_id"
