"""`/meet list` end to end: the meetings you organize and those you are invited to, Join on
each, Cancel only where you may, and pages with "…and N more"."""

from __future__ import annotations

import json
from typing import Any

from bot.rules import LIST_LIMIT
from bot.slack import blocks
from bot.slack.blocks.ids import LIST_PAGE_NEXT, LIST_PAGE_PREV
from tests.e2e.conftest import ADA, ALICE, BOB, CHEN, Harness


def answer(harness: Harness, rid: str) -> dict[str, Any]:
    (reply,) = harness.replies(rid)
    return reply.args


def buttons_of(message: dict[str, Any], action_id: str) -> list[str]:
    return [
        str(e.get("value"))
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    ]


def sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_list_shows_what_i_organize_and_what_i_am_invited_to(harness: Harness) -> None:
    for text, user in (
        ("Retro tomorrow 4pm with <@UBOB|bob>", ALICE),
        ("Planning tomorrow 9am", BOB),
        ("Roadmap tomorrow 11am", CHEN),
    ):
        _, rid = harness.command(text, user=user)
        assert "Host details" in harness.reply_text(rid)  # recorded by now

    _, rid = harness.command("list", user=BOB)
    listed = answer(harness, rid)
    texts = sections(listed)
    assert len(texts) == 2
    assert any("Retro" in t and "invited by <@UALICE>" in t for t in texts)
    assert any("Planning" in t and "invited by" not in t for t in texts)
    assert "Roadmap" not in json.dumps(listed)
    assert len(buttons_of(listed, blocks.JOIN)) == 2
    # Bob may cancel his own meeting only; the list says so with its buttons.
    (cancellable,) = buttons_of(listed, blocks.CANCEL)
    _, rid = harness.click(blocks.CANCEL, cancellable, user=BOB)
    assert "cancelled" in harness.reply_text(rid)
    assert [m["subject"] for m in harness.sandbox.meetings() if m["cancelled"]] == ["Planning"]

    # An admin may cancel any meeting: the list offers it on one she is invited to.
    _, rid = harness.command("Design tomorrow 1pm with <@UADA|ada>", user=CHEN)
    assert "Host details" in harness.reply_text(rid)  # recorded by now
    _, rid = harness.command("list", user=ADA)
    assert len(buttons_of(answer(harness, rid), blocks.CANCEL)) == 1

    _, rid = harness.command("list", user=CHEN)
    assert {t.split("*")[1] for t in sections(answer(harness, rid))} == {"Roadmap", "Design"}


def test_list_pages_say_how_many_more_and_page_on(harness: Harness) -> None:
    count = LIST_LIMIT + 2
    for i in range(count):
        harness.command(f"Sync {chr(97 + i) * 3} tomorrow 4pm", user=BOB)
    harness.slack.wait_for("chat.postMessage", count=count)

    _, rid = harness.command("list", user=BOB)
    first = answer(harness, rid)
    assert len(buttons_of(first, blocks.JOIN)) == LIST_LIMIT
    assert "…and 2 more not shown." in json.dumps(first, ensure_ascii=False)
    assert buttons_of(first, LIST_PAGE_NEXT) == ["1"]
    assert buttons_of(first, LIST_PAGE_PREV) == []

    _, rid = harness.click(LIST_PAGE_NEXT, "1", user=BOB)
    second = answer(harness, rid)
    assert len(buttons_of(second, blocks.JOIN)) == 2
    assert "more not shown" not in json.dumps(second)
    assert buttons_of(second, LIST_PAGE_PREV) == ["0"]
    assert buttons_of(second, LIST_PAGE_NEXT) == []
    first_ids = set(buttons_of(first, blocks.JOIN))
    assert first_ids.isdisjoint(buttons_of(second, blocks.JOIN))
    _, rid = harness.command("list", user=ALICE)
    assert "no upcoming meetings" in harness.reply_text(rid)
