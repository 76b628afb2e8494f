"""Settings: environment names of design.md, CSV lists, one-line errors naming the variable."""

from __future__ import annotations

import pytest

from bot.config import BOT_SCOPES, ConfigError, Settings, load_settings


def test_settings_read_design_names_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("MEETBOT_HCM_APP_KEY", "app-key")
    monkeypatch.setenv("MEETBOT_REMINDER_MINUTES", "0, 10,5")
    monkeypatch.setenv("MEETBOT_ADMINS", "U1,U2")
    monkeypatch.setenv("MEETBOT_TICK_SECONDS", "1")
    monkeypatch.setenv("PORT", "8123")
    settings = load_settings()
    assert settings.reminder_minutes == (10, 5, 0)
    assert settings.admins == frozenset({"U1", "U2"})
    assert settings.tick_seconds == 1
    assert settings.port == 8123
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-secret"
    shown = repr(settings) + str(settings)
    for secret in ("xoxb-secret", "signing-secret", "app-key"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("MEETBOT_TICK_SECONDS", "0.5", id="tick-below-one-second"),
        pytest.param("MEETBOT_REMINDER_MINUTES", "ten", id="reminders-not-minutes"),
        pytest.param("MEETBOT_SLACK_API_URL", "slack.com/api", id="url-without-scheme"),
        pytest.param("PORT", "http", id="port-not-a-number"),
    ],
)
def test_a_bad_setting_fails_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message


def test_require_names_the_missing_variable() -> None:
    settings = Settings(slack_bot_token=None)
    with pytest.raises(ConfigError, match="missing setting SLACK_BOT_TOKEN"):
        settings.require("slack_bot_token")


def test_oauth_mode_is_chosen_by_client_id_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-internal")
    assert load_settings().oauth is False
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("MEETBOT_PUBLIC_URL", "https://meetbot.example.com")
    settings = load_settings()
    assert settings.oauth is True
    client_id, secret, public_url = settings.oauth_credentials()
    assert (client_id, secret.get_secret_value()) == ("1111.2222", "client-secret")
    assert public_url == "https://meetbot.example.com"
    assert settings.slack_scopes == BOT_SCOPES
    assert "client-secret" not in repr(settings) + str(settings)


def test_slack_scopes_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_SCOPES", "commands, chat:write,,users:read")
    assert load_settings().slack_scopes == ("commands", "chat:write", "users:read")
    monkeypatch.setenv("SLACK_SCOPES", " , ")
    with pytest.raises(ConfigError, match="SLACK_SCOPES"):
        load_settings()


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        pytest.param({"slack_client_id": "1.2"}, "SLACK_CLIENT_SECRET", id="no-secret"),
        pytest.param({"slack_client_secret": "s"}, "SLACK_CLIENT_ID", id="no-client-id"),
        pytest.param(
            {"slack_client_id": "1.2", "slack_client_secret": "s"},
            "MEETBOT_PUBLIC_URL",
            id="no-public-url",
        ),
    ],
)
def test_half_an_oauth_setup_names_what_is_missing(given: dict[str, str], missing: str) -> None:
    settings = Settings(**given)  # type: ignore[arg-type]
    assert settings.oauth is True
    with pytest.raises(ConfigError, match=f"missing setting {missing}$"):
        settings.oauth_credentials()
