"""All of meetbot's configuration: one Settings class read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["BOT_SCOPES", "ConfigError", "Settings", "load_settings"]

DEFAULT_HCM_BASE_URL: Final = "https://api-intl.meeting.huaweicloud.com"
BOT_SCOPES: Final = (
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
)
"""The bot scopes an OAuth install asks for by default (SLACK_SCOPES overrides): manifest.yml's
`oauth_config.scopes.bot`, which tests/test_manifest.py keeps equal to this."""


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable in one line."""


class Settings(BaseSettings):
    """meetbot's settings; environment names are in design.md's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="MEETBOT_", env_file=".env", extra="ignore", frozen=True
    )

    # Slack's own names (no MEETBOT_ prefix).
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id")
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "slack_client_secret"),
    )
    slack_scopes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=BOT_SCOPES, validation_alias=AliasChoices("SLACK_SCOPES", "slack_scopes")
    )
    slack_api_url: str = "https://slack.com/api/"
    public_url: str | None = None
    """Where Slack reaches this server (https://meetbot.example.com): OAuth's redirect_uri."""

    hcm_base_url: str = DEFAULT_HCM_BASE_URL
    hcm_app_id: str | None = None
    hcm_app_key: SecretStr | None = None
    hcm_corp_id: str | None = None
    hcm_webhook_key: SecretStr | None = None
    """The subscriber key of the vendor's meeting event push; POST /hcm/events is 404 without."""

    database_url: str = "sqlite:///./meetbot.db"
    secret_key: SecretStr | None = None
    data_dir: Path = Path(".meetbot")

    tick_seconds: float = Field(default=15, ge=1)
    status_poll_seconds: float = Field(default=30, ge=1)
    claim_seconds: float = Field(default=30, ge=1)
    reminder_minutes: Annotated[tuple[int, ...], NoDecode] = (10, 0)
    admins: Annotated[frozenset[str], NoDecode] = frozenset()
    slack_calls: bool = False

    port: int = Field(default=3000, ge=0, le=65535, validation_alias=AliasChoices("PORT", "port"))

    @field_validator("slack_api_url", "hcm_base_url", "public_url")
    @classmethod
    def _url_with_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("reminder_minutes", mode="before")
    @classmethod
    def _minutes_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ValueError("must be comma-separated whole minutes, e.g. 10,0")
            value = tuple(sorted({int(p) for p in parts}, reverse=True))
        return value

    @field_validator("slack_scopes", mode="before")
    @classmethod
    def _scopes_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
            if not value:
                raise ValueError("must name at least one scope, e.g. commands,chat:write")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _admins_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(p.strip() for p in value.split(",") if p.strip())
        return value

    @property
    def oauth(self) -> bool:
        """OAuth mode (install into any number of workspaces): SLACK_CLIENT_ID and
        SLACK_CLIENT_SECRET are set. Otherwise one workspace, SLACK_BOT_TOKEN."""
        return self.slack_client_id is not None or self.slack_client_secret is not None

    def oauth_credentials(self) -> tuple[str, SecretStr, str]:
        """OAuth mode's client ID, client secret and public URL; ConfigError naming the
        first that is missing."""
        self.require("slack_client_id", "slack_client_secret", "public_url")
        if not (self.slack_client_id and self.slack_client_secret and self.public_url):
            raise ConfigError("missing setting SLACK_CLIENT_ID")  # unreachable: required above
        return self.slack_client_id, self.slack_client_secret, self.public_url

    def require(self, *names: str) -> None:
        """Fail with one line naming the first of `names` that is not set."""
        for name in names:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value in (None, ""):
                raise ConfigError(f"missing setting {env_name(name)}")


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        return first if isinstance(first, str) else field
    return f"MEETBOT_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning a validation error into one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = env_name(field) if field in Settings.model_fields else field
        raise ConfigError(f"invalid setting {name}: {error['msg']}") from None
