"""The Host headers that name the demo page, wherever it is bound."""

from __future__ import annotations

import pytest

from bot.demo.guard import page_hosts


@pytest.mark.parametrize(
    ("bound", "port", "hosts"),
    [
        pytest.param("127.0.0.1", 8080, {"127.0.0.1:8080", "localhost:8080"}, id="loopback"),
        pytest.param(
            "Demo.LAN", 8080, {"127.0.0.1:8080", "localhost:8080", "demo.lan:8080"}, id="a-name"
        ),
        pytest.param("::1", 8080, {"127.0.0.1:8080", "localhost:8080", "[::1]:8080"}, id="ipv6"),
        pytest.param(
            "127.0.0.1",
            80,
            {"127.0.0.1:80", "localhost:80", "127.0.0.1", "localhost"},
            id="port-80-left-out",
        ),
    ],
)
def test_the_page_answers_to_loopback_names_and_its_bound_address(
    bound: str, port: int, hosts: set[str]
) -> None:
    assert page_hosts(bound, port) == hosts
