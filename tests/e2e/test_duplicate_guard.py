"""The duplicate guard end to end: a repeat of a meeting just created here creates nothing and
answers with that meeting and "Create another anyway", whose press creates it once, after
checking the request again."""

from __future__ import annotations

import json
from typing import Any

from bot.slack import blocks
from bot.slack.blocks.ids import CREATE_ANYWAY, CREATE_ANYWAY_NOW
from tests.e2e.conftest import BOB, Harness


def anyway_button(harness: Harness, rid: str, action_id: str) -> str:
    (reply,) = harness.replies(rid)
    message: dict[str, Any] = reply.args
    return next(
        str(e["value"])
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


def test_a_repeated_command_creates_nothing_until_the_user_insists(harness: Harness) -> None:
    harness.command("Retro tomorrow 4pm")
    card = harness.slack.wait_for("chat.postMessage")[0].args
    join_url = next(
        e["url"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.JOIN
    )

    _, rid = harness.command("  RETRO   tomorrow 4pm for 15m")
    reply = harness.reply_text(rid)
    assert "nothing new was created" in reply
    assert "Retro" in reply
    assert join_url in reply
    assert blocks.JOIN in reply
    assert len(harness.sandbox.meetings()) == 1
    value = anyway_button(harness, rid, CREATE_ANYWAY)

    _, rid = harness.click(CREATE_ANYWAY, value)
    harness.slack.wait_for("chat.postMessage", count=2)
    assert [m["subject"] for m in harness.sandbox.meetings()] == ["Retro", "RETRO"]
    # The same press again (a double click) is acted on once.
    _, rid = harness.click(CREATE_ANYWAY, value)
    assert "acts on it only once" in harness.reply_text(rid)
    assert len(harness.sandbox.meetings()) == 2

    # Someone else, or the same person elsewhere, is no repeat.
    harness.command("Retro tomorrow 4pm", user=BOB)
    harness.command("Retro tomorrow 4pm", channel="C2")
    harness.slack.wait_for("chat.postMessage", count=4)
    assert len(harness.sandbox.meetings()) == 4


def test_create_anyway_checks_the_request_again(harness: Harness) -> None:
    harness.command("Retro tomorrow 4pm")
    harness.slack.wait_for("chat.postMessage")
    _, rid = harness.command("Retro tomorrow 4pm")
    value = json.loads(anyway_button(harness, rid, CREATE_ANYWAY))
    value["s"] = 1_000_000_000  # 2001: in the past now
    _, rid = harness.click(CREATE_ANYWAY, json.dumps(value))
    assert "passed" in harness.reply_text(rid)
    _, rid = harness.click(CREATE_ANYWAY, "not a request", message_ts="2.0")
    assert "no longer reads as a meeting" in harness.reply_text(rid)
    assert len(harness.sandbox.meetings()) == 1


def test_a_repeated_instant_meeting_is_held_back_too(harness: Harness) -> None:
    harness.command("now Quick sync")
    harness.slack.wait_for("chat.postMessage")
    _, rid = harness.command("now quick sync")
    topic = anyway_button(harness, rid, CREATE_ANYWAY_NOW)
    assert topic == "quick sync"
    assert len(harness.sandbox.meetings()) == 1
    harness.click(CREATE_ANYWAY_NOW, topic)
    harness.slack.wait_for("chat.postMessage", count=2)
    assert len(harness.sandbox.meetings()) == 2
