"""What can be checked of the Dockerfile without a Docker engine."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from bot.config import Settings, env_name

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(keyword: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [
        line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(keyword + " ")
    ]


def test_every_configuration_name_it_mentions_is_a_setting() -> None:
    known = {env_name(field) for field in Settings.model_fields}
    mentioned = set(re.findall(r"\b(?:MEETBOT_[A-Z0-9_]+|SLACK_[A-Z_]+|PORT)\b", DOCKERFILE))
    assert mentioned, "the Dockerfile should document its configuration"
    assert mentioned <= known, mentioned - known


def test_it_is_multi_stage_slim_and_runs_meetbot_serve_as_non_root() -> None:
    stages = instructions("FROM")
    assert len(stages) >= 2
    assert all("slim" in stage for stage in stages)
    assert instructions("USER") == ["meetbot"]
    assert instructions("CMD") == ['["meetbot", "serve"]']


def test_healthcheck_probes_healthz_on_the_configured_port() -> None:
    (check,) = instructions("HEALTHCHECK")
    assert "/healthz" in check
    assert "PORT" in check


def test_copied_paths_exist_and_dockerignore_keeps_the_context_small() -> None:
    for copy in instructions("COPY"):
        if copy.startswith("--from"):
            continue
        *sources, _ = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)


def pip_installs() -> list[str]:
    """Every `pip install …` command the Dockerfile runs."""
    return [
        command.strip()
        for run in instructions("RUN")
        for command in run.split("&&")
        if re.search(r"\bpip install\b", command)
    ]


def test_dependencies_come_from_the_hashed_lock_and_the_project_adds_none() -> None:
    installs = pip_installs()
    from_lock = [c for c in installs if "-r requirements/lock.txt" in c]
    assert from_lock, installs
    assert all("--require-hashes" in c for c in from_lock), from_lock
    # Anything else installed is the project itself, without resolving dependencies again.
    others = [c for c in installs if c not in from_lock]
    assert others, "the project itself is installed"
    assert all("--no-deps" in c and c.split()[-1] == "." for c in others), others
    assert any(copy.split()[0] == "requirements/lock.txt" for copy in instructions("COPY")), (
        "the lock is copied into the build stage"
    )


def test_base_images_are_pinned_by_digest() -> None:
    stages = instructions("FROM")
    assert all(re.search(r"@sha256:[0-9a-f]{64}\b", stage) for stage in stages), stages
    assert len({stage.split()[0] for stage in stages}) == 1, "both stages start from one image"


def test_dockerignore_keeps_the_lock_in_the_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not any(
        fnmatch.fnmatch(path, pattern.rstrip("/"))
        for pattern in ignored
        for path in ("requirements", "requirements/lock.txt")
    ), ignored
