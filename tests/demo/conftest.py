"""Fixtures of the demo's tests."""

from __future__ import annotations

import pytest

from tests.demo.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()
