"""Slack's OAuth v2 for the fake: the authorize page (approved at once) and `oauth.v2.access`
(a code, or with token rotation a refresh token, for a bot token), changing a `Workspace`."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

from bot.demo.workspace.model import ApiError, Installation
from bot.demo.workspace.state import Workspace

__all__ = ["ACCESS_TOKEN_SECONDS", "CODE_SECONDS", "OAuthServer"]

CODE_SECONDS: Final = 600
"""An OAuth code is exchanged once, within 10 minutes."""
ACCESS_TOKEN_SECONDS: Final = 43200
"""With token rotation an access token lives 12 hours."""


class OAuthServer:
    """Slack's side of an install: codes issued by `authorize`, exchanged by `access`."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def authorize(self, query: Mapping[str, str]) -> tuple[int, str]:
        """`GET /oauth/v2/authorize`: (302, where to) approved as a member of a team, or (400,
        why). Fake-only: `team`, `user` (default: the first team, its first admin), `deny=1`,
        `org=1` (an org-wide install of the team's Enterprise Grid org)."""
        app = self.ws.app
        if query.get("client_id") != app.client_id:
            return 400, "invalid_client_id"
        redirect = query.get("redirect_uri") or (app.redirect_urls[:1] or ("",))[0]
        if not redirect or (
            app.redirect_urls and not any(redirect.startswith(u) for u in app.redirect_urls)
        ):
            return 400, "bad_redirect_uri"
        state = query.get("state", "")
        if query.get("deny") == "1":
            return 302, _with_query(redirect, error="access_denied", state=state)
        team_id = query.get("team") or next(iter(self.ws.teams), "")
        people = self.ws.people(team_id)
        admin = next((u.id for u in people if u.is_admin), people[0].id if people else "")
        user = self.ws.users.get(query.get("user") or admin)
        if team_id not in self.ws.teams or user is None or user.team_id != team_id:
            return 400, "invalid_team_or_user"
        org = query.get("org") == "1"
        if org and self.ws.teams[team_id].enterprise is None:
            return 400, "not_an_enterprise"
        code = f"{int(self.ws.clock())}.{secrets.token_hex(16)}"
        self.ws.grants[code] = {
            "team": team_id,
            "user": user.id,
            "scopes": [s for s in query.get("scope", "").split(",") if s],
            "redirect_uri": query.get("redirect_uri", ""),
            "issued": self.ws.clock(),
            "org": org,
        }
        return 302, _with_query(redirect, code=code, state=state)

    def access(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Exchange a code (or, with token rotation, a refresh token) for a bot token."""
        app = self.ws.app
        if args.get("client_id") != app.client_id:
            raise ApiError("invalid_client_id")
        if args.get("client_secret") != app.client_secret:
            raise ApiError("bad_client_secret")
        grant_type = str(args.get("grant_type") or "authorization_code")
        if grant_type == "refresh_token":
            return self._refresh(str(args.get("refresh_token") or ""))
        if grant_type != "authorization_code":
            raise ApiError("invalid_grant_type")
        grant = self.ws.grants.pop(str(args.get("code") or ""), None)
        if grant is None or self.ws.clock() - grant["issued"] > CODE_SECONDS:
            raise ApiError("invalid_code")
        if grant["redirect_uri"] and args.get("redirect_uri") != grant["redirect_uri"]:
            raise ApiError("bad_redirect_uri")
        installation = self.ws.install(
            grant["team"],
            installer=grant["user"],
            scopes=grant["scopes"],
            enterprise_install=grant["org"],
        )
        return self._token_answer(installation)

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        old = next(
            (
                i
                for i in self.ws.installations.values()
                if refresh_token and i.refresh_token == refresh_token and not i.revoked
            ),
            None,
        )
        if old is None or not self.ws.app.token_rotation:
            raise ApiError("invalid_refresh_token")
        old.refresh_token = None  # a refresh token is used once
        new = self.ws.install(
            old.team_id,
            installer=old.installer,
            scopes=old.scopes,
            enterprise_install=old.enterprise_install,
        )
        old.revoked = False  # the old access token lives until it expires
        return self._token_answer(new)

    def _token_answer(self, installation: Installation) -> dict[str, Any]:
        team = self.ws.teams[installation.team_id]
        org = installation.enterprise_install
        out: dict[str, Any] = {
            "ok": True,
            "app_id": self.ws.app.app_id,
            "authed_user": {"id": installation.installer},
            "scope": ",".join(sorted(installation.scopes)),
            "token_type": "bot",
            "access_token": installation.token,
            "bot_user_id": team.bot.id,
            "team": None if org else {"id": team.id, "name": team.name},
            "enterprise": (
                {"id": team.enterprise[0], "name": team.enterprise[1]} if team.enterprise else None
            ),
            "is_enterprise_install": org,
        }
        if installation.refresh_token:
            out |= {"refresh_token": installation.refresh_token, "expires_in": ACCESS_TOKEN_SECONDS}
        return out


def _with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query string."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
