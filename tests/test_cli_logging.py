"""`meetbot serve`'s logging: meetbot's own INFO lines, nothing below WARNING from Bolt (which
logs whole request bodies at INFO), whenever Bolt creates its loggers."""

from __future__ import annotations

import subprocess
import sys

# Run in a child: configuring logging here would change it for the rest of the test session.
PROBE = """
import logging
from bot.cli import serve_logging
serve_logging()
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger import get_bolt_app_logger, get_bolt_logger
from slack_bolt.middleware.request_verification import RequestVerification
print(
    get_bolt_logger(AsyncApp).isEnabledFor(logging.INFO),
    get_bolt_logger(RequestVerification).isEnabledFor(logging.INFO),
    get_bolt_app_logger("app.py").isEnabledFor(logging.INFO),
    logging.getLogger("bot.server").isEnabledFor(logging.INFO),
    logging.getLogger("storage.repo").isEnabledFor(logging.INFO),
)
"""


def test_bolt_loggers_created_after_setup_stay_at_warning_and_ours_at_info() -> None:
    done = subprocess.run(  # noqa: S603 -- our own interpreter, a fixed script
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "False", "False", "True", "True"]
