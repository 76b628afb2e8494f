"""The fake Slack's OAuth v2 flow, over real HTTP with slack_sdk as the client: authorize,
oauth.v2.access (codes, client credentials, redirect URIs, token rotation), auth.test/revoke."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.demo.workspace import OAuthApp, Team
from tests.demo.clock import Clock
from tests.fakes.asgi_server import serve_asgi
from tests.fakes.slack_api import FakeSlack, SlackUser, build_fake_slack_app

REDIRECT = "https://bot.example/slack/oauth_redirect"
APP = OAuthApp(client_id="111.222", client_secret="s3cret", redirect_urls=(REDIRECT,))
ROTATING = OAuthApp(client_id="111.222", client_secret="s3cret", token_rotation=True)
ADMIN = SlackUser("UADMIN", "T1", "Admin", is_admin=True)
GRID_BOT = SlackUser("UBOT3", "T3", "meetbot", is_bot=True)
GRID_USER = SlackUser("UGRID", "T3", "Gus", is_admin=True)


def serve(slack: FakeSlack) -> Iterator[tuple[FakeSlack, str]]:
    slack.add_users(ADMIN, SlackUser("UPLAIN", "T1", "Plain"))
    slack.ws.add_team(Team("T3", "Grid team", GRID_BOT, "BBOT3", ("E1", "Grid org")), GRID_USER)
    with serve_asgi(build_fake_slack_app(slack)) as url:
        yield slack, url


@pytest.fixture
def fake(clock: Clock) -> Iterator[tuple[FakeSlack, str]]:
    yield from serve(FakeSlack(clock=clock, app=APP))


@pytest.fixture
def rotating(clock: Clock) -> Iterator[tuple[FakeSlack, str]]:
    yield from serve(FakeSlack(clock=clock, app=ROTATING))


def authorize(url: str, **params: str) -> dict[str, str]:
    """Follow Slack's consent page; the query of the redirect back to the app."""
    query = {"client_id": APP.client_id, "scope": "chat:write,commands", "state": "st8"}
    answer = httpx.get(f"{url}/oauth/v2/authorize", params={**query, **params})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def client(url: str, token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=f"{url}/api/")


def error_of(call: Callable[[], object]) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


def test_install_answers_slacks_shape_and_the_token_works(
    fake: tuple[FakeSlack, str],
) -> None:
    _, url = fake
    back = authorize(url, redirect_uri=REDIRECT)
    assert back["state"] == "st8"
    answer = client(url).oauth_v2_access(
        client_id=APP.client_id,
        client_secret=APP.client_secret,
        code=back["code"],
        redirect_uri=REDIRECT,
    )
    assert answer.data == {
        "ok": True,
        "app_id": APP.app_id,
        "authed_user": {"id": "UADMIN"},
        "scope": "chat:write,commands",
        "token_type": "bot",
        "access_token": answer["access_token"],
        "bot_user_id": "UBOT",
        "team": {"id": "T1", "name": "Test team"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    assert answer["access_token"].startswith("xoxb-")
    me = client(url, answer["access_token"]).auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T1", "UBOT", "BBOT")
    assert me["is_enterprise_install"] is False


def test_a_code_is_single_use_and_short_lived(fake: tuple[FakeSlack, str], clock: Clock) -> None:
    _, url = fake
    creds = {"client_id": APP.client_id, "client_secret": APP.client_secret}
    code = authorize(url, redirect_uri=REDIRECT)["code"]
    client(url).oauth_v2_access(**creds, code=code, redirect_uri=REDIRECT)
    assert (
        error_of(lambda: client(url).oauth_v2_access(**creds, code=code, redirect_uri=REDIRECT))
        == "invalid_code"
    )
    late = authorize(url, redirect_uri=REDIRECT)["code"]
    clock.now += 601
    assert (
        error_of(lambda: client(url).oauth_v2_access(**creds, code=late, redirect_uri=REDIRECT))
        == "invalid_code"
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"client_id": "999.999"}, "invalid_client_id", id="unknown-client"),
        pytest.param({"client_secret": "wrong"}, "bad_client_secret", id="wrong-secret"),
        pytest.param({"redirect_uri": REDIRECT + "/other"}, "bad_redirect_uri", id="redirect"),
        pytest.param({"grant_type": "password"}, "invalid_grant_type", id="grant-type"),
        pytest.param(
            {"grant_type": "refresh_token", "refresh_token": "xoxe-1-x"},
            "invalid_refresh_token",
            id="refresh-without-rotation",
        ),
    ],
)
def test_oauth_access_errors(
    fake: tuple[FakeSlack, str], change: dict[str, str], error: str
) -> None:
    _, url = fake
    code = authorize(url, redirect_uri=REDIRECT)["code"]
    args = {
        "client_id": APP.client_id,
        "client_secret": APP.client_secret,
        "code": code,
        "redirect_uri": REDIRECT,
        **change,
    }
    assert error_of(lambda: client(url).oauth_v2_access(**args)) == error


def test_authorize_denied_unknown_client_and_foreign_redirect(fake: tuple[FakeSlack, str]) -> None:
    _, url = fake
    assert authorize(url, redirect_uri=REDIRECT, deny="1") == {
        "error": "access_denied",
        "state": "st8",
    }
    base = {"scope": "chat:write", "redirect_uri": REDIRECT}
    wrong = httpx.get(f"{url}/oauth/v2/authorize", params={**base, "client_id": "1.1"})
    assert (wrong.status_code, wrong.text) == (400, "invalid_client_id")
    foreign = {**base, "client_id": APP.client_id, "redirect_uri": "https://evil.example/"}
    answer = httpx.get(f"{url}/oauth/v2/authorize", params=foreign)
    assert (answer.status_code, answer.text) == (400, "bad_redirect_uri")


def test_client_credentials_by_http_basic_and_a_chosen_user(
    fake: tuple[FakeSlack, str],
) -> None:
    _, url = fake
    code = authorize(url, redirect_uri=REDIRECT, user="UPLAIN")["code"]
    answer = httpx.post(
        f"{url}/api/oauth.v2.access",
        data={"code": code, "redirect_uri": REDIRECT},
        auth=(APP.client_id, APP.client_secret),
    ).json()
    assert answer["ok"], answer
    assert answer["authed_user"] == {"id": "UPLAIN"}


def test_reinstall_replaces_the_token_and_revoke_ends_it(
    fake: tuple[FakeSlack, str],
) -> None:
    _, url = fake
    creds = {"client_id": APP.client_id, "client_secret": APP.client_secret}
    tokens = []
    for _ in range(2):
        code = authorize(url, redirect_uri=REDIRECT)["code"]
        answer = client(url).oauth_v2_access(**creds, code=code, redirect_uri=REDIRECT)
        tokens.append(str(answer["access_token"]))
    assert error_of(lambda: client(url, tokens[0]).auth_test()) == "token_revoked"
    assert (client(url, tokens[1]).auth_revoke())["revoked"] is True
    assert error_of(lambda: client(url, tokens[1]).auth_test()) == "token_revoked"
    assert error_of(lambda: client(url, "xoxb-never-issued").auth_test()) == "invalid_auth"


def test_token_rotation_refreshes_and_access_tokens_expire(
    rotating: tuple[FakeSlack, str], clock: Clock
) -> None:
    _, url = rotating
    creds = {"client_id": ROTATING.client_id, "client_secret": ROTATING.client_secret}
    code = authorize(url, redirect_uri=REDIRECT)["code"]
    first = client(url).oauth_v2_access(**creds, code=code, redirect_uri=REDIRECT)
    assert first["access_token"].startswith("xoxe.xoxb-")
    assert first["expires_in"] == 43200
    refreshed = client(url).oauth_v2_access(
        **creds, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert (
        error_of(
            lambda: client(url).oauth_v2_access(
                **creds, grant_type="refresh_token", refresh_token=first["refresh_token"]
            )
        )
        == "invalid_refresh_token"
    )
    clock.now += 43201
    assert error_of(lambda: client(url, refreshed["access_token"]).auth_test()) == "token_expired"


def test_an_org_wide_install_of_an_enterprise_team(fake: tuple[FakeSlack, str]) -> None:
    _, url = fake
    code = authorize(url, redirect_uri=REDIRECT, team="T3", org="1")["code"]
    answer = client(url).oauth_v2_access(
        client_id=APP.client_id,
        client_secret=APP.client_secret,
        code=code,
        redirect_uri=REDIRECT,
    )
    assert answer["is_enterprise_install"] is True
    assert answer["enterprise"] == {"id": "E1", "name": "Grid org"}
    assert answer["team"] is None
    me = client(url, answer["access_token"]).auth_test()
    assert (me["team_id"], me["enterprise_id"], me["is_enterprise_install"]) == ("T3", "E1", True)
