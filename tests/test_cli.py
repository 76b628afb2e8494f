"""`meetbot serve` refuses to start on a bad setting with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "PORT": "0"}


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        pytest.param({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN", id="missing-token"),
        pytest.param({"MEETBOT_TICK_SECONDS": "0"}, "MEETBOT_TICK_SECONDS", id="bad-tick"),
        pytest.param({"MEETBOT_SECRET_KEY": "nope"}, "MEETBOT_SECRET_KEY", id="bad-fernet-key"),
        pytest.param(
            {"MEETBOT_DATABASE_URL": "mysql://db/x"}, "MEETBOT_DATABASE_URL", id="bad-database"
        ),
        pytest.param(
            {"MEETBOT_DATABASE_URL": "postgresql://127.0.0.1:1/x"},
            "MEETBOT_SECRET_KEY",
            id="postgresql-without-a-shared-secret-key",
        ),
    ],
)
def test_serve_names_the_bad_setting_in_one_line(
    tmp_path: Path, overrides: dict[str, str], variable: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEETBOT_", "SLACK_"))}
    env.update(GOOD | overrides)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert variable in lines[0]
    assert "s3cret" not in done.stderr
