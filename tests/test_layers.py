"""The house rules of design.md, read from the code: every module's imports (ast) must point
inward, and the vendor's and Slack's names stay in their adapters."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PURE = ("bot.rules", "bot.commands", "bot.timeparse", "storage.vocabulary")
"""Pure modules: they import nothing of ours but one another."""
PACKAGES = ("bot", "storage")
"""The top-level packages themselves (empty `__init__`s): importing them says nothing."""

ALLOWED: dict[str, tuple[str, ...]] = {
    # room: the rooms of ours it may import (besides itself and the pure modules)
    "storage": (),
    "bot.config": (),
    "bot.metrics": (),
    "bot.huawei": (),
    "bot.sandbox": ("bot.huawei",),
    "bot.service": ("bot.config", "bot.huawei", "storage"),
    "bot.scheduler": ("bot.config", "bot.metrics", "bot.service"),
    "bot.slack": ("bot.config", "bot.metrics", "bot.service"),
}
"""Dependencies point inward. The composition roots (bot.server, bot.cli) and the demo may
import anything; nothing may import them (checked below)."""

ROOTS = ("bot.server", "bot.cli", "bot.demo")

SLACK_LIBRARIES = ("slack_bolt", "slack_sdk")
SLACK_SIDE = ("bot.slack", "bot.demo")
"""Only the Slack adapter (and the demo's Slack emulator) may import Slack's libraries."""

VENDOR_WIRE_NAMES = frozenset(
    {
        "conferenceID",
        "chairJoinUri",
        "guestJoinUri",
        "audienceJoinUri",
        "confType",
        "conferenceState",
        "cycleParams",
        "subConfID",
        "accessToken",
        "userUUID",
        "chairmanPwd",
        "confUUID",
        "meeting.started",
        "meeting.end",
        "meeting.conclude",
        "meeting.verify",
    }
)
"""Words of the vendor's wire format (reference/huawei-cloud-meeting-api.md)."""
VENDOR_SIDE = ("bot.huawei", "bot.sandbox")


def modules() -> Iterator[tuple[str, Path]]:
    for top in ("bot", "storage"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue  # Alembic's revisions import what the migration needs
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def imports(name: str, path: Path) -> set[str]:
    """Absolute names of everything `path` imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(name: str, rooms: tuple[str, ...]) -> bool:
    return any(name == room or name.startswith(room + ".") for room in rooms)


def ours(name: str) -> bool:
    return within(name, ("bot", "storage"))


def room_of(name: str) -> str | None:
    rooms = sorted([*ALLOWED, *ROOTS], key=len, reverse=True)
    return next((room for room in rooms if within(name, (room,))), None)


MODULES = dict(modules())


def test_the_rooms_cover_the_house() -> None:
    homeless = [
        name
        for name in MODULES
        if name not in PACKAGES and room_of(name) is None and not within(name, PURE)
    ]
    assert homeless == [], "give these modules a room in ALLOWED (or PURE)"


@pytest.mark.parametrize("name", sorted(set(MODULES) - set(PACKAGES)))
def test_dependencies_point_inward(name: str) -> None:
    targets = {
        t for t in imports(name, MODULES[name]) if ours(t) and t in MODULES and t not in PACKAGES
    }
    if within(name, PURE):
        wrong = {t for t in targets if not within(t, PURE)}
        assert wrong == set(), f"pure {name} imports {wrong}"
        return
    room = room_of(name)
    assert room is not None
    if room in ROOTS:
        return
    allowed = (room, *ALLOWED[room], *PURE)
    wrong = {t for t in targets if not within(t, allowed)}
    assert wrong == set(), f"{name} ({room}) must not import {sorted(wrong)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_slack_side_imports_slacks_libraries(name: str) -> None:
    if within(name, SLACK_SIDE) or within(name, ROOTS):
        return
    found = {t for t in imports(name, MODULES[name]) if within(t, SLACK_LIBRARIES)}
    assert found == set(), f"{name} imports {sorted(found)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_vendor_side_knows_the_vendors_wire_names(name: str) -> None:
    if within(name, VENDOR_SIDE):
        return
    spoken = {
        node.value
        for node in ast.walk(tree(MODULES[name]))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert spoken & VENDOR_WIRE_NAMES == set(), name


def test_the_rules_catch_an_arrow_in_the_wrong_direction(tmp_path: Path) -> None:
    """The checks above are not vacuous: a storage module importing the service is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.service import MeetingService\nfrom . import repo\n")
    found = imports("storage.bad", bad)
    assert "bot.service" in found
    assert "storage.repo" in found
    assert not within("bot.service", ("storage", *ALLOWED["storage"], *PURE))
