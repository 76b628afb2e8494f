"""Slack's side of the wire, pure: fixture users, escaping typed text, request bodies and signing.

What Slack sends an app (signed slash commands, `block_actions`, `view_submission`) and how it
reads a modal's inputs into `state.values`. Used by the demo's emulator and by the tests' fake.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "REQUIRED_FIELD",
    "SlackUser",
    "api_request",
    "block_actions_payload",
    "encode_typed",
    "epoch_from_local",
    "interaction_body",
    "local_from_epoch",
    "parse_api_args",
    "signed_headers",
    "slack_escape",
    "slash_command_body",
    "view_state",
    "view_submission_payload",
]

REQUIRED_FIELD: Final = "Please complete this required field."
"""What Slack shows under an empty required input (checked by Slack, never sent to the app)."""

_JSON_ARGS: Final = ("blocks", "attachments", "view", "metadata", "users")


@dataclass(frozen=True)
class SlackUser:
    """A workspace member as users.info shows them."""

    id: str
    team_id: str
    name: str
    tz: str = "America/Los_Angeles"
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False

    def as_slack(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"real_name": self.name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name.lower(),
            "real_name": self.name,
            "tz": self.tz,
            "tz_label": self.tz,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "deleted": False,
            "profile": profile,
        }


def slack_escape(typed: str) -> str:
    """What Slack does to literal text a user typed before sending it to the app."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode_typed(
    typed: str, *, users: Iterable[SlackUser], channels: Mapping[str, str] | None = None
) -> str:
    """Composer text as Slack sends it with should_escape: `&<>` escaped, `@name` as
    `<@U…|name>` and `#channel` as `<#C…|channel>` for the members and channels it knows."""
    names = {u.name.lower(): u for u in users if not u.is_bot}
    by_name = {name.lower(): cid for cid, name in (channels or {}).items()}
    parts: list[str] = []
    pattern = re.compile(r"([@#])([^\s@#<>&,.;:!?]+)")
    last = 0
    for found in pattern.finditer(typed):
        sigil, word = found.group(1), found.group(2)
        if sigil == "@" and word.lower() in names:
            user = names[word.lower()]
            token = f"<@{user.id}|{user.name.lower()}>"
        elif sigil == "#" and word.lower() in by_name:
            token = f"<#{by_name[word.lower()]}|{word.lower()}>"
        else:
            continue
        parts.append(slack_escape(typed[last : found.start()]))
        parts.append(token)
        last = found.end()
    parts.append(slack_escape(typed[last:]))
    return "".join(parts)


def signed_headers(body: str, *, secret: str, timestamp: int) -> dict[str, str]:
    """Headers exactly as Slack signs a request body (v0 HMAC-SHA256)."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    if signature is None:  # only for a body that is None
        raise ValueError("nothing to sign")
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }


def new_trigger_id() -> str:
    """A fresh trigger ID in Slack's shape (`<digits>.<digits>.<32 hex>`)."""
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def slash_command_body(
    text: str,
    *,
    user_id: str,
    team_id: str,
    channel_id: str = "C1",
    channel_name: str = "general",
    user_name: str | None = None,
    command: str = "/meet",
    response_url: str,
    trigger_id: str | None = None,
    api_app_id: str = "A1",
) -> str:
    """A form-encoded slash command body; `text` exactly as Slack would send it. Like Slack,
    every command gets its own trigger_id unless one is given.

    With should_escape: true Slack escapes `&`, `<`, `>` in what the user typed (see
    `slack_escape`) and sends mentions as `<@U123|name>` (see `encode_typed`).
    """
    return urllib.parse.urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": team_id.lower(),
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def interaction_body(payload: Mapping[str, Any]) -> str:
    """A form-encoded interactivity request (`payload=<json>`), as Slack sends it."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def _actor(user: SlackUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.name.lower(),
        "name": user.name.lower(),
        "team_id": user.team_id,
    }


def block_actions_payload(
    *,
    user: SlackUser,
    channel: tuple[str, str],
    message: Mapping[str, Any],
    ephemeral: bool,
    block_id: str,
    element: Mapping[str, Any],
    response_url: str,
    trigger_id: str,
    action_ts: str,
    api_app_id: str = "A1",
) -> dict[str, Any]:
    """The `block_actions` payload of a button pressed in a message (`channel`: id, name).

    Slack leaves the message out for an ephemeral one: the app only learns its ts.
    """
    action: dict[str, Any] = {
        "type": element.get("type", "button"),
        "action_id": element.get("action_id", ""),
        "block_id": block_id,
        "text": element.get("text", {"type": "plain_text", "text": ""}),
        "action_ts": action_ts,
    }
    for key in ("value", "url", "style"):
        if key in element:
            action[key] = element[key]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _actor(user),
        "api_app_id": api_app_id,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel[0],
            "is_ephemeral": ephemeral,
        },
        "trigger_id": trigger_id,
        "team": {"id": user.team_id, "domain": user.team_id.lower()},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel[0], "name": channel[1]},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not ephemeral:
        payload["message"] = dict(message)
    return payload


def view_submission_payload(
    *,
    user: SlackUser,
    view: Mapping[str, Any],
    values: Mapping[str, Any],
    trigger_id: str,
    api_app_id: str = "A1",
) -> dict[str, Any]:
    """The `view_submission` payload of a modal submitted with `values` (its state.values)."""
    return {
        "type": "view_submission",
        "team": {"id": user.team_id, "domain": user.team_id.lower()},
        "user": _actor(user),
        "api_app_id": api_app_id,
        "token": "deprecated-verification-token",
        "trigger_id": trigger_id,
        "view": {**view, "state": {"values": dict(values)}},
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def local_from_epoch(epoch: int, tz: ZoneInfo) -> str:
    """An epoch as a `datetime-local` input value (`YYYY-MM-DDTHH:MM`) in `tz`."""
    return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%dT%H:%M")


def epoch_from_local(value: str, tz: ZoneInfo) -> int:
    """A `datetime-local` value read as a wall time in `tz`, as an epoch."""
    wall = datetime.fromisoformat(value[:16]).replace(tzinfo=tz)
    return int(wall.astimezone(UTC).timestamp())


def _input_value(element: Mapping[str, Any], raw: Any, tz: ZoneInfo) -> tuple[dict[str, Any], bool]:
    """(the element's entry in state.values, whether it holds a value)."""
    kind = str(element.get("type"))
    text = raw if isinstance(raw, str) else ""
    chosen = [str(v) for v in raw] if isinstance(raw, list) else ([text] if text else [])
    options = {
        str(o.get("value")): o
        for o in [
            *element.get("options", ()),
            *(o for g in element.get("option_groups", ()) for o in g.get("options", ())),
        ]
    }
    entry: dict[str, Any] = {"type": kind}
    match kind:
        case "datetimepicker":
            entry["selected_date_time"] = epoch_from_local(text, tz) if text else None
            return entry, bool(text)
        case "datepicker":
            entry["selected_date"] = text or None
        case "timepicker":
            entry["selected_time"] = text or None
        case "static_select" | "radio_buttons":
            entry["selected_option"] = options.get(text)
            return entry, text in options
        case "multi_static_select" | "checkboxes":
            entry["selected_options"] = [options[v] for v in chosen if v in options]
            return entry, bool(entry["selected_options"])
        case "multi_users_select":
            entry["selected_users"] = chosen
            return entry, bool(chosen)
        case "users_select":
            entry["selected_user"] = text or None
        case "number_input" | "email_text_input" | "url_text_input" | "plain_text_input":
            entry["value"] = text or None
        case _:
            entry["value"] = text or None
    return entry, bool(text)


def view_state(
    view: Mapping[str, Any], raw: Mapping[str, Mapping[str, Any]], tz: ZoneInfo
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """A modal's inputs as Slack reports them: (state.values, errors by block_id).

    `raw` holds what the page's form controls hold, by block_id and action_id (text, or a list
    for multi-selects); datetimes are wall times in the viewer's zone `tz`. Empty required
    inputs become errors, as Slack refuses them before the app sees anything.
    """
    values: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for block in view.get("blocks", ()):
        if block.get("type") != "input":
            continue
        block_id = str(block.get("block_id", ""))
        element = block.get("element", {})
        action_id = str(element.get("action_id", ""))
        entry, filled = _input_value(element, raw.get(block_id, {}).get(action_id), tz)
        values[block_id] = {action_id: entry}
        if not filled and not block.get("optional", False):
            errors[block_id] = REQUIRED_FIELD
    return values, errors


def parse_api_args(body: bytes, content_type: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The arguments of a Web API call, sent as JSON or as a form (JSON-valued fields decoded).

    ValueError when the JSON (the body's or a field's) is malformed.
    """
    if content_type.startswith("application/json"):
        parsed = json.loads(body or b"{}")
        args: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    else:
        args = dict(urllib.parse.parse_qsl(body.decode(errors="replace")))
    args = {**query, **args}
    for key in _JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            args[key] = json.loads(value)
    return args


def api_request(
    body: bytes, content_type: str, query: Mapping[str, str], authorization: str
) -> tuple[dict[str, Any], str | None]:
    """A Web API request's (arguments, bearer token). The token comes from `Authorization:
    Bearer` or a `token` argument; HTTP Basic carries an OAuth client's id and secret, which
    become the `client_id` and `client_secret` arguments (as Slack reads either).

    ValueError when the JSON (the body's or a field's) is malformed.
    """
    args = parse_api_args(body, content_type, query)
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("malformed Basic credentials") from exc
        args.setdefault("client_id", urllib.parse.unquote(client_id))
        args.setdefault("client_secret", urllib.parse.unquote(secret))
    token = credentials.strip() if scheme.lower() == "bearer" else None
    from_args = args.pop("token", None)
    return args, token or (str(from_args) if from_args else None)
