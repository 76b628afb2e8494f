"""`meetbot demo` in headless Chromium: the page a new user opens, driven like a person would.

Runs the real `meetbot demo` process and Debian's /usr/bin/chromium through Playwright (no
browser download). Writes artifacts/demo.png; with MEETBOT_UPDATE_DOCS_SCREENSHOT=1 also the
README's docs/demo.png.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"open (http://\S+/) in your browser")
# Card updates wait for the bot's status poll (3 s in the demo) and the page's live update.
LIVE_TIMEOUT_MS = 20_000
REMINDER_TIMEOUT_MS = 75_000

if not CHROMIUM.exists():
    pytest.skip(
        "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running `meetbot demo` on a free port; its page URL."""
    data_dir = tmp_path_factory.mktemp("demo")
    log_path = data_dir / "demo.log"
    command = [sys.executable, "-m", "bot.cli", "demo", "--port", "0", "--data-dir", str(data_dir)]
    with (
        log_path.open("w") as log,
        # cwd: the demo must not depend on the working directory.
        subprocess.Popen(  # noqa: S603 -- our own interpreter and arguments
            command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=data_dir
        ) as process,
    ):
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = READY.search(line)
            if found is None:
                process.kill()
                pytest.fail(f"meetbot demo did not start: {line!r} {log_path.read_text()}")
            yield found.group(1)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, log_path.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, demo_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    # Join links point at the sandbox's made-up host; answer them here instead of the network.
    context.route(
        re.compile(r"^https://sandbox\.meeting\.invalid/"),
        lambda route: route.fulfill(body="joined", content_type="text/plain"),
    )
    opened = context.new_page()
    opened.goto(demo_url)
    expect(opened.locator("#who")).to_have_value("UANA")
    yield opened
    context.close()


def be(page: Page, name: str) -> None:
    """Choose who you are (the fixture members: Ana the admin, Bo, 陈, Dev)."""
    page.select_option(
        "#who", value={"Ana": "UANA", "Bo": "UBO", "陈": "UCHEN", "Dev": "UDEV"}[name]
    )
    expect(page.locator("#tz")).not_to_be_empty()


def meet(page: Page, text: str) -> None:
    """Type a message or command in the composer and press Enter."""
    page.fill("#compose-text", text)
    page.press("#compose-text", "Enter")


def card(page: Page, topic: str) -> Locator:
    """The bot's channel card for `topic` (not a reminder nor a private message), followed by
    its ts so it stays found when an edit takes its buttons away."""
    first = (
        page.locator("#messages > .msg:not(.ephemeral)", has_text=topic)
        .filter(has=page.locator("button[data-action-id='meet_join']"))
        .filter(has_text="Organizer")
        .first
    )
    expect(first).to_be_visible()
    return page.locator(f"#messages > .msg[data-ts='{first.get_attribute('data-ts')}']")


def test_instant_meeting_shows_a_card_whose_join_button_opens_the_link(page: Page) -> None:
    meet(page, "/meet now Design review")
    shown = card(page, "Design review")
    expect(shown).to_contain_text("In progress")
    join = shown.locator("button[data-action-id='meet_join']")
    link = join.get_attribute("data-url") or ""
    assert link.startswith("https://sandbox.meeting.invalid/")
    host = page.locator(".msg.ephemeral", has_text="Host details for Design review")
    expect(host).to_contain_text("Only visible to you")

    with page.expect_popup() as popup:
        join.click()
    assert popup.value.url == link
    expect(page.locator("#toast")).not_to_have_class(re.compile("show"))  # the bot acked

    be(page, "Bo")
    expect(card(page, "Design review")).to_be_visible()
    expect(page.locator(".msg", has_text="Host details for Design review")).to_have_count(0)


def test_schedule_modal_shows_errors_inline_then_creates_the_meeting(page: Page) -> None:
    be(page, "陈")
    meet(page, "/meet schedule")
    dialog = page.get_by_role("dialog", name="Schedule a meeting")
    expect(dialog).to_be_visible()
    dialog.locator("[data-action-id='schedule_topic']").fill("Board prep")
    dialog.locator("[data-action-id='schedule_start']").fill("2020-01-01T09:00")
    dialog.get_by_role("button", name="Schedule").click()
    expect(dialog.locator(".err")).to_have_text("Pick a time in the future.")
    expect(dialog.locator("[data-action-id='schedule_topic']")).to_have_value("Board prep")

    shanghai = ZoneInfo("Asia/Shanghai")
    next_year = datetime.now(shanghai).year + 1
    dialog.locator("[data-action-id='schedule_start']").fill(f"{next_year}-03-02T09:30")
    dialog.locator("label", has_text="Dev").locator("input").check()
    dialog.get_by_role("button", name="Schedule").click()
    expect(dialog).to_have_count(0)
    shown = card(page, "Board prep")
    expect(shown).to_contain_text("Scheduled")
    # Date tokens are shown in the reader's zone: 09:30 in Shanghai is 07:00 in Kolkata.
    expect(shown.locator("time")).to_contain_text("9:30 AM")
    be(page, "Dev")
    expect(card(page, "Board prep").locator("time")).to_contain_text("7:00 AM")
    expect(page.locator("#dms li.unread")).to_contain_text("1")  # the invitation
    page.locator("#dms li").first.click()
    expect(page.locator(".msg", has_text="invited you to")).to_contain_text("Board prep")


def screenshot(page: Page) -> None:
    """The test artifact, and (on request) the README's picture."""
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "demo.png"))
    if os.environ.get("MEETBOT_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(artifacts / "demo.png", ROOT / "docs" / "demo.png")


def local_time(epoch: int, zone: str) -> str:
    """`{time}` of a Slack date token as a reader in `zone` sees it."""
    return datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(zone)).strftime("%-I:%M %p")


def test_scheduled_meeting_card_reads_in_each_zone_and_the_panel_drives_the_sandbox(
    page: Page,
) -> None:
    meet(page, "/meet Planning in 2 hours")
    shown = card(page, "Planning")
    expect(shown).to_contain_text("Scheduled")
    epoch = int(shown.locator("time").first.get_attribute("datetime") or 0)
    expect(shown.locator("time").first).to_contain_text(local_time(epoch, "America/Los_Angeles"))
    be(page, "Dev")
    expect(card(page, "Planning").locator("time").first).to_contain_text(
        local_time(epoch, "Asia/Kolkata")
    )

    meeting = page.locator("#meetings .meeting", has_text="Planning")
    expect(meeting.locator(".state")).to_have_text("scheduled")
    meeting.get_by_role("button", name="Start").click()
    expect(meeting.locator(".state")).to_have_text("in progress")
    meeting.get_by_role("button", name="Add participant (me)").click()
    expect(meeting.locator(".participants li")).to_have_count(1)
    expect(meeting.locator(".participants li")).to_contain_text("Dev")
    meeting.locator(".participants li").get_by_role("button", name="Remove").click()
    expect(meeting.locator(".participants li")).to_have_count(0)
    meeting.get_by_role("button", name="End").click()
    # Ended early: the booking stays open (it can start again) and the session is history.
    expect(meeting.locator(".past")).to_have_text("1 past session")
    expect(meeting.locator(".state")).to_have_text("scheduled")
    be(page, "Ana")
    screenshot(page)


@pytest.mark.timeout(240)
def test_scheduled_meeting_reminds_then_goes_live_and_ends(page: Page) -> None:
    # Times are whole minutes and the demo reminds 2 minutes before: the first reminder is
    # due at the next minute boundary, within a minute.
    meet(page, "/meet Demo sync in 3 minutes")
    shown = card(page, "Demo sync")
    expect(shown).to_contain_text("Scheduled")

    reminder = page.locator("#messages .msg", has_text="⏰").filter(has_text="Demo sync")
    expect(reminder.first).to_contain_text("starts in 2 min", timeout=REMINDER_TIMEOUT_MS)
    expect(reminder.first.locator("button[data-action-id='meet_join']")).to_be_visible()

    meeting = page.locator("#meetings .meeting", has_text="Demo sync")
    meeting.get_by_role("button", name="Start").click()
    expect(shown).to_contain_text("In progress", timeout=LIVE_TIMEOUT_MS)
    meeting.get_by_role("button", name="End").click()
    expect(shown).to_contain_text("Ended — lasted", timeout=LIVE_TIMEOUT_MS)
    expect(shown.locator("button[data-action-id='meet_join']")).to_have_count(0)
    thread = shown.locator(".thread-toggle")
    expect(thread).to_contain_text("replies", timeout=LIVE_TIMEOUT_MS)
    thread.click()
    expect(shown.locator(".thread")).to_contain_text("has started")
    expect(shown.locator(".thread")).to_contain_text("ended — lasted")
    screenshot(page)


def test_demo_page_is_served_without_network_resources(page: Page) -> None:
    """Plain files from the package: nothing is fetched from a CDN."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    expect(page.locator("#who")).to_have_value("UANA")
    assert all(url.startswith(page.url.rstrip("/")) for url in requested), requested


def test_the_picker_shows_every_kind_of_place_and_where_meetbot_is(page: Page) -> None:
    """Where to type /meet: channels with and without meetbot, private ones, DMs, a group DM."""
    for kind in ("public", "private"):
        for bot in ("true", "false"):
            place = page.locator(f"#channels li[data-kind='{kind}'][data-bot='{bot}']")
            expect(place).to_have_count(1)
    expect(page.locator("#people li[data-kind='im']")).to_have_count(3)  # Bo, 陈, Dev
    expect(page.locator("#people li[data-kind='mpim']")).to_have_count(1)
    expect(page.locator("#dms li[data-kind='app']")).to_have_count(1)
    page.locator("#people li[data-kind='im']", has_text="Bo").click()
    expect(page.locator("#channel-name")).to_have_text("● Bo")
    expect(page.locator("#channel-kind")).to_contain_text("cannot post here")
    page.locator("#channels li", has_text="leads").click()
    expect(page.locator("#channel-name")).to_have_text("🔒 leads")
    expect(page.locator("#channel-kind")).to_contain_text("without meetbot")
