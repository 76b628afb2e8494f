"""Settings: environment names of design.md, CSV lists, one-line errors naming the variable."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings, load_settings


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
