"""manifest.yml is a valid Slack app manifest with the command, scopes and URLs meetbot needs.

The schema is Slack's own (slackapi/manifest-schema v0.5.0, manifest.schema.1.0.0.json, MIT,
see fixtures/slack-manifest-schema.LICENSE): the one its root schema picks for a manifest whose
`_metadata.major_version` is 1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "fixtures" / "slack-manifest.schema.json"
HOST = "meetbot.example.com"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _urls(node: object) -> list[str]:
    if isinstance(node, dict):
        return [url for value in node.values() for url in _urls(value)]
    if isinstance(node, list):
        return [url for item in node for url in _urls(item)]
    if isinstance(node, str) and "://" in node:
        return [node]
    return []


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.path)
    )
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    assert manifest["_metadata"]["major_version"] == 1


def test_schema_rejects_a_misspelt_key(manifest: dict[str, Any]) -> None:
    broken = {**manifest, "settings": {**manifest["settings"], "socket_mode": False}}
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_background_color_is_a_hex_colour(manifest: dict[str, Any]) -> None:
    # The schema spells this constraint "regex", which JSON Schema ignores.
    assert re.fullmatch(
        r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", manifest["display_information"]["background_color"]
    )


def test_meet_command_escapes_mentions(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/meet"
    assert command["should_escape"] is True
    assert command["url"] == f"https://{HOST}/slack/events"
    for word in ("now", "schedule", "list", "cancel", "help"):
        assert word in command["usage_hint"]


def test_bot_scopes_are_exactly_what_meetbot_uses(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}
    assert sorted(scopes["bot"]) == sorted(
        [
            "commands",
            "chat:write",
            "chat:write.public",
            "users:read",
            "users:read.email",
            "im:write",
            "channels:read",
            "groups:read",
            "im:read",
            "channels:join",
            "channels:history",
            "groups:history",
            "im:history",
            "calls:write",
            "calls:read",
        ]
    )


def test_interactivity_and_events_reach_the_bot(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": f"https://{HOST}/slack/events",
    }
    assert settings["event_subscriptions"]["request_url"] == f"https://{HOST}/slack/events"
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    assert manifest["oauth_config"]["redirect_urls"] == [f"https://{HOST}/slack/oauth_redirect"]


def test_every_url_is_https_on_the_placeholder_host(manifest: dict[str, Any]) -> None:
    urls = _urls(manifest)
    assert len(urls) == 4
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname) == ("https", HOST), url
