"""`/meet admin channel #c`: reminders of meetings scheduled afterwards go to that channel."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.scheduler import posting_channel
from tests.conftest import Database
from tests.e2e.conftest import ADA, ALICE, Harness
from tests.e2e.scheduling import repository


async def test_reminders_go_to_the_workspace_reminder_channel(
    harness: Harness, empty_database: Database
) -> None:
    _, rid = harness.command("admin channel <#C9MEET|meetings>", user=ADA)
    assert "C9MEET" in harness.reply_text(rid)
    harness.command("Retro tomorrow 4pm", user=ALICE, channel="C1")
    card = harness.slack.wait_for("chat.postMessage")[0].args
    assert card["channel"] == "C1"  # the card stays where /meet was typed

    async with repository(empty_database.url) as repo:
        (meeting,) = await repo.upcoming_meetings(
            team_id="T1", organizer_slack_id=ALICE.id, now=datetime.now(UTC), limit=5
        )
        reminders = await repo.deliveries(team_id="T1", meeting_id=meeting.id)
    assert {d.kind for d in reminders} == {"reminder:10", "reminder:0"}
    assert {posting_channel(d, meeting) for d in reminders} == {"C9MEET"}
