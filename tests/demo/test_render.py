"""How the page shows the bot's Block Kit to one reader: zones, mentions, escaping, buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.demo.render import Viewer, format_date, mrkdwn, render_blocks, render_view
from bot.slack import blocks
from bot.slack.blocks import CardState, CardView

NOW = datetime(2031, 3, 2, 12, 0, tzinfo=UTC)
START = datetime(2031, 3, 2, 22, 30, tzinfo=UTC)


def viewer(zone: str, user_id: str = "UANA") -> Viewer:
    return Viewer(
        user_id=user_id,
        tz=ZoneInfo(zone),
        now=NOW,
        names={"UANA": "Ana", "UCHEN": "陈"},
        people={"UANA": "Ana", "UCHEN": "陈"},
        channels={"C1": "general"},
    )


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        pytest.param("America/Los_Angeles", "Today at 2:30 PM", id="los-angeles-same-day"),
        pytest.param("Asia/Shanghai", "Tomorrow at 6:30 AM", id="shanghai-next-day"),
        pytest.param("Asia/Kolkata", "Tomorrow at 4:00 AM", id="kolkata-half-hour-zone"),
    ],
)
def test_date_tokens_are_shown_in_the_readers_zone(zone: str, shown: str) -> None:
    token = blocks.date_token(START)
    assert f">{shown}</time>" in mrkdwn(token, viewer(zone))


@pytest.mark.parametrize(
    ("fmt", "shown"),
    [
        pytest.param("{date_num} {time_secs}", "2031-03-02 2:30:00 PM", id="num-secs"),
        pytest.param("{date}", "March 2nd, 2031", id="date"),
        pytest.param("{date_short}", "Mar 2, 2031", id="short"),
        pytest.param("{date_long}", "Sunday, March 2nd, 2031", id="long"),
        pytest.param("{date_pretty}", "Today", id="pretty"),
        pytest.param("{ago}", "in 10 hours", id="ago-future"),
    ],
)
def test_every_slack_date_format_token(fmt: str, shown: str) -> None:
    assert format_date(int(START.timestamp()), fmt, viewer("America/Los_Angeles")) == shown


def test_user_text_stays_inert_and_markup_renders() -> None:
    escaped = blocks.escape('<script>alert(1)</script> & <!channel> "q"')
    html = mrkdwn(f"*{escaped}* _it_ `a<b` ~no~ :zap:", viewer("UTC"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt; &quot;q&quot;" in html
    assert html.startswith("<b>")
    assert "<i>it</i>" in html
    assert "<s>no</s>" in html
    assert "<code>a&lt;b</code>" in html
    assert "⚡" in html


def test_mentions_links_and_unsafe_links() -> None:
    html = mrkdwn(
        "<@UCHEN> <@UANA> <#C1> <!here> <https://x.example/a?b=1&amp;c=2|docs> <javascript:alert(1)|bad>",
        viewer("UTC"),
    )
    assert '<span class="mention">@陈</span>' in html
    assert '<span class="mention me">@Ana</span>' in html  # the reader is highlighted
    assert "#general" in html
    assert "@here" in html
    assert 'href="https://x.example/a?b=1&amp;c=2"' in html
    assert "javascript:" not in html.replace(">bad<", "")
    assert "bad" in html


def test_a_scheduled_card_renders_with_its_buttons() -> None:
    card = CardView(
        meeting_id=7,
        conference_id="123456789",
        topic="Board <prep>",
        organizer_id="UANA",
        start=START,
        duration_minutes=45,
        join_url="https://sandbox.meeting.invalid/j/1",
        state=CardState.SCHEDULED,
        recurrence_text=None,
        invitee_ids=("UCHEN",),
    )
    message = blocks.render_card(card)
    for number, block in enumerate(message["blocks"]):
        block["block_id"] = f"b{number}"
    html = render_blocks(message["blocks"], viewer("Asia/Shanghai"))
    assert "<b>Board &lt;prep&gt;</b>" in html
    assert "Tomorrow at 6:30 AM" in html
    assert 'data-action-id="meet_join"' in html
    assert 'data-url="https://sandbox.meeting.invalid/j/1"' in html
    assert 'data-action-id="meet_cancel"' in html
    assert "data-confirm=" in html  # Cancel asks first


def test_modal_controls_show_initial_values_in_the_viewers_zone_and_errors() -> None:
    view = blocks.render_schedule_modal(
        topic="Retro", initial_epoch=int(START.timestamp()), private_metadata="C1"
    )
    html = render_view(view, viewer("Asia/Shanghai"), {blocks.SCHEDULE_START: "Pick a time."})
    assert 'value="2031-03-03T06:30"' in html
    assert 'value="Retro"' in html
    assert '<option value="30" selected>' in html
    assert '<div class="err">Pick a time.</div>' in html
    assert 'type="checkbox" value="UCHEN"' in html
