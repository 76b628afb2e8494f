"""OAuth mode's pure parts: where Slack's authorize page is, and the install pages' HTML."""

from __future__ import annotations

import pytest

from bot.slack.oauth import authorize_url, render_page


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        pytest.param("https://slack.com/api/", "https://slack.com/oauth/v2/authorize", id="slack"),
        pytest.param(
            "http://127.0.0.1:5000/api", "http://127.0.0.1:5000/oauth/v2/authorize", id="fake"
        ),
        pytest.param(
            "http://127.0.0.1:5000/slack/api/",
            "http://127.0.0.1:5000/slack/oauth/v2/authorize",
            id="under-a-prefix",
        ),
    ],
)
def test_the_authorize_page_sits_beside_the_web_api(api_url: str, expected: str) -> None:
    assert authorize_url(api_url) == expected


def test_install_pages_escape_their_title() -> None:
    page = render_page("<script>alert(1)</script>", "<b>kept</b>")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>kept</b>" in page
