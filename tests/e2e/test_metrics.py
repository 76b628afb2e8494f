"""`GET /metrics`: what the bot did, in Prometheus' text format."""

from __future__ import annotations

import re
import time

from tests.e2e.conftest import Harness


def test_metrics_count_slack_requests_and_their_ack_time(harness: Harness) -> None:
    began = time.perf_counter()
    harness.command("help")
    harness.command("help")
    # The bot (in this process, on the same clock) times each ack inside its request.
    waited = time.perf_counter() - began
    response = harness.http.get(f"{harness.bot_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'meetbot_slack_requests_total{status="200"} 2' in text
    assert "meetbot_slack_ack_seconds_count 2" in text
    found = re.search(r"^meetbot_slack_ack_seconds_sum (\S+)$", text, re.M)
    assert found is not None
    assert 0 < float(found.group(1)) <= waited
    assert "# TYPE meetbot_slack_requests_awaiting_ack gauge" in text
    assert "meetbot_slack_requests_awaiting_ack 0" in text
