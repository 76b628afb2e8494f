"""The emulator over real HTTP: it takes what its own page and the bot send, and nothing a
page of another site (or a DNS-rebound name) could send from the same browser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from bot.demo.emulator import Emulator, EmulatorConfig
from bot.demo.workspace import GENERAL
from tests.fakes.asgi_server import serve_asgi

TOKEN = "xoxb-demo-test"
NOWHERE = "http://127.0.0.1:9"  # the bot and the sandbox: these tests never reach them
PAGE_POSTS = [
    "/demo/command",
    "/demo/message",
    "/demo/action",
    "/demo/view",
    "/demo/view/close",
    "/demo/sandbox/123/start",
]
EVIL = "evil.example"


@dataclass(frozen=True)
class Page:
    emulator: Emulator
    http: httpx.AsyncClient
    host: str
    """The page's own Host header, `127.0.0.1:<port>`."""

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    def posted(self) -> list[str]:
        """The texts of the messages people posted in #general."""
        return [m.text for m in self.emulator.ws.messages if m.channel == GENERAL]


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    config = EmulatorConfig(
        events_url=f"{NOWHERE}/slack/events",
        signing_secret="s3cret",
        bot_token=TOKEN,
        sandbox_url=NOWHERE,
        public_url=NOWHERE,
    )
    async with Emulator(config) as emulator:
        with serve_asgi(emulator.app) as url:
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                yield Page(emulator, http, url.removeprefix("http://"))


def message(text: str = "hello") -> bytes:
    return json.dumps({"user": "UANA", "channel": GENERAL, "text": text}).encode()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "{origin}"}, id="fetch-from-the-page"),
        pytest.param(
            {"Origin": "{origin}", "Sec-Fetch-Site": "same-origin"}, id="with-fetch-metadata"
        ),
        pytest.param({"Sec-Fetch-Site": "same-origin"}, id="same-origin-without-origin"),
        pytest.param({}, id="not-a-browser"),
        pytest.param(
            {"Host": "localhost:{port}", "Origin": "http://localhost:{port}"}, id="via-localhost"
        ),
    ],
)
async def test_the_pages_own_json_post_is_taken(page: Page, headers: dict[str, str]) -> None:
    port = page.host.rpartition(":")[2]
    sent = {k: v.format(origin=page.origin, port=port) for k, v in headers.items()}
    answer = await page.http.post(
        "/demo/message",
        content=message(),
        headers={"Content-Type": "application/json; charset=utf-8", **sent},
    )
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert page.posted() == ["hello"]


@pytest.mark.parametrize("path", PAGE_POSTS)
@pytest.mark.parametrize(
    ("origin", "sec_fetch_site"),
    [
        pytest.param(f"http://{EVIL}", "cross-site", id="another-site"),
        pytest.param("http://127.0.0.1:1", "same-site", id="another-local-port"),
        pytest.param("null", "cross-site", id="sandboxed-frame"),
        pytest.param(None, "cross-site", id="no-origin-but-cross-site"),
    ],
)
async def test_a_post_from_another_origin_is_forbidden(
    page: Page, path: str, origin: str | None, sec_fetch_site: str
) -> None:
    headers = {"Content-Type": "application/json", "Sec-Fetch-Site": sec_fetch_site}
    if origin is not None:
        headers["Origin"] = origin
    answer = await page.http.post(path, content=message(), headers=headers)
    assert answer.status_code == 403
    assert answer.json()["ok"] is False
    assert page.posted() == []


@pytest.mark.parametrize("path", PAGE_POSTS)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("text/plain", message(), id="json-as-text-plain"),
        pytest.param(
            "application/x-www-form-urlencoded",
            b"user=UANA&channel=C0GENERAL&text=hello",
            id="form-post",
        ),
        pytest.param("multipart/form-data; boundary=x", message(), id="multipart"),
        pytest.param(None, message(), id="no-content-type"),
    ],
)
async def test_a_page_post_must_be_json(
    page: Page, path: str, content_type: str | None, body: bytes
) -> None:
    """Even from the page's own origin: only a JSON body needs the CORS preflight."""
    headers = {"Origin": page.origin}
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = await page.http.post(path, content=body, headers=headers)
    assert answer.status_code == 415
    assert answer.json()["ok"] is False
    assert page.posted() == []


async def test_a_dns_rebound_name_gets_nothing(page: Page) -> None:
    """evil.example resolving to 127.0.0.1 makes its page same-origin with Host evil.example."""
    port = page.host.rpartition(":")[2]
    rebound = {"Host": f"{EVIL}:{port}", "Origin": f"http://{EVIL}:{port}"}
    post = await page.http.post(
        "/demo/message",
        content=message(),
        headers={"Content-Type": "application/json", **rebound},
    )
    assert post.status_code == 403
    assert page.posted() == []
    for path in (f"/demo/state?user=UANA&channel={GENERAL}", "/demo/sandbox?user=UANA", "/"):
        answer = await page.http.get(path, headers={"Host": f"{EVIL}:{port}"})
        assert answer.status_code == 403, path


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b""],
    ids=["broken", "not-utf8", "array", "empty"],
)
async def test_a_malformed_page_post_is_a_clear_400(page: Page, body: bytes) -> None:
    answer = await page.http.post(
        "/demo/message",
        content=body,
        headers={"Content-Type": "application/json", "Origin": page.origin},
    )
    assert answer.status_code == 400
    assert answer.json() == {"ok": False, "error": "invalid_json"}


async def test_a_response_url_takes_only_json_from_no_other_origin(page: Page) -> None:
    """Response URLs are numbered, so guessable: a page of another site must not post there."""
    form = b"text=pwned&response_type=in_channel"
    as_form = await page.http.post(
        "/response/r000001",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert as_form.status_code == 415
    from_elsewhere = await page.http.post(
        "/response/r000001",
        content=b'{"text": "pwned"}',
        headers={"Content-Type": "application/json", "Origin": f"http://{EVIL}"},
    )
    assert from_elsewhere.status_code == 403
    malformed = await page.http.post(
        "/response/r000001", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (malformed.status_code, malformed.text) == (400, "invalid_json")
    # What the bot sends (aiohttp, `json=`) passes the checks and reaches the lookup.
    bots = await page.http.post(
        "/response/r000001",
        content=b'{"text": "hi"}',
        headers={"Content-Type": "application/json"},
    )
    assert (bots.status_code, bots.text) == (404, "no_such_url")


async def test_the_web_api_takes_the_bots_forms_but_no_other_origin(page: Page) -> None:
    """slack_sdk posts forms with the bot token; the token, not the content type, guards /api."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bots = await page.http.post("/api/auth.test", content=f"token={TOKEN}".encode(), headers=form)
    assert bots.json()["ok"] is True
    from_elsewhere = await page.http.post(
        "/api/auth.test",
        content=f"token={TOKEN}".encode(),
        headers={**form, "Origin": f"http://{EVIL}"},
    )
    assert from_elsewhere.status_code == 403
    malformed = await page.http.post(
        "/api/chat.postMessage",
        content=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert malformed.status_code == 400
    assert malformed.json() == {"ok": False, "error": "invalid_json"}
