"""requirements/*.txt (hashed locks) against pyproject.toml, without the network.

requirements/lock.txt pins the runtime dependencies (the image installs it);
requirements/dev.lock.txt pins runtime + test + dev (CI installs it). Both are written by
`requirements/update` (README, "Dependencies"). Every declared dependency must have an upper
bound, appear in its lock, be pinned there to a version its specifier admits, and every
pinned file must carry a sha256 hash (`pip install --require-hashes` refuses anything else).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "lock.txt"
DEV_LOCK = ROOT / "requirements" / "dev.lock.txt"

# What the locks are resolved for (requirements/update): CI's and the image's interpreter.
TARGET = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
}
BOUNDING_OPERATORS = {"<", "<=", "==", "===", "~="}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")
SHA256 = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]


def parse_lock(text: str) -> tuple[dict[NormalizedName, Pin], list[str]]:
    """The pins of a hashed lock, and what is wrong with its lines."""
    pins: dict[NormalizedName, Pin] = {}
    problems: list[str] = []
    logical = re.sub(r"\\\n", " ", text)
    for raw in logical.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        requirement, *options = line.split()
        match = PIN.match(requirement)
        if match is None:
            problems.append(f"not an exact `name==version` pin: {line}")
            continue
        name = canonicalize_name(match["name"])
        hashes = tuple(o for o in options if o.startswith("--hash="))
        if not any(SHA256.match(h) for h in hashes):
            problems.append(f"{name}: no --hash=sha256: on its line")
        if len(hashes) != len(options):
            problems.append(f"{name}: options other than --hash: {options}")
        if name in pins:
            problems.append(f"{name}: pinned twice")
        pins[name] = Pin(match["version"], hashes)
    return pins, problems


def has_upper_bound(requirement: Requirement) -> bool:
    return bool({spec.operator for spec in requirement.specifier} & BOUNDING_OPERATORS)


def lock_problems(
    declared: list[str], pins: dict[NormalizedName, Pin], lock: str, project: str
) -> list[str]:
    """What is wrong between pyproject.toml's `declared` requirements and a lock's `pins`."""
    problems = []
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name == canonicalize_name(project):
            continue  # "meetbot[test]": the project's own extra, already checked on its own
        if not has_upper_bound(requirement):
            problems.append(f"{text!r} has no upper bound in pyproject.toml")
        if requirement.marker is not None and not requirement.marker.evaluate(TARGET):
            continue
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{text!r} is missing from {lock}")
        elif not requirement.specifier.contains(Version(pin.version), prereleases=True):
            problems.append(f"{lock} pins {name}=={pin.version}, outside {text!r}")
    if canonicalize_name(project) in pins:
        problems.append(f"{lock} pins the project itself (it is installed with --no-deps)")
    return problems


def load_pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


PYPROJECT = load_pyproject()
PROJECT = PYPROJECT["project"]
RUNTIME: list[str] = PROJECT["dependencies"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]
CASES = {
    "runtime in lock.txt": (RUNTIME, RUNTIME_LOCK),
    "runtime in dev.lock.txt": (RUNTIME, DEV_LOCK),
    "test in dev.lock.txt": (EXTRAS["test"], DEV_LOCK),
    "dev in dev.lock.txt": (EXTRAS["dev"], DEV_LOCK),
}


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_lock_line_is_an_exact_pin_with_sha256_hashes(lock: Path) -> None:
    pins, problems = parse_lock(lock.read_text())
    assert pins, f"{lock} pins nothing"
    assert problems == []


@pytest.mark.parametrize(("declared", "lock"), CASES.values(), ids=CASES.keys())
def test_every_declared_dependency_is_bounded_and_locked_within_its_specifier(
    declared: list[str], lock: Path
) -> None:
    pins, _ = parse_lock(lock.read_text())
    assert lock_problems(declared, pins, lock.name, PROJECT["name"]) == []


def test_the_build_backend_is_bounded_too() -> None:
    # Not in the locks: pip's build isolation fetches it when it builds meetbot itself.
    requires = [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]
    assert requires
    assert [str(r) for r in requires if not has_upper_bound(r)] == []


def test_only_known_extras_so_none_escapes_the_checks() -> None:
    assert set(EXTRAS) == {"test", "dev"}


def test_the_image_runs_the_versions_ci_tested() -> None:
    runtime, _ = parse_lock(RUNTIME_LOCK.read_text())
    dev, _ = parse_lock(DEV_LOCK.read_text())
    differ = {
        name: (pin.version, dev[name].version if name in dev else None)
        for name, pin in runtime.items()
        if name not in dev or dev[name].version != pin.version
    }
    assert differ == {}


# The checks themselves, on made-up input: each way a lock can go wrong is caught.

GOOD_HASH = "--hash=sha256:" + "0" * 64


def test_parse_lock_reads_continued_lines_and_comments() -> None:
    pins, problems = parse_lock(
        f"# header\nSQLModel==0.0.50 \\\n    {GOOD_HASH} \\\n    {GOOD_HASH}\n    # via x\n"
    )
    assert problems == []
    assert pins == {"sqlmodel": Pin("0.0.50", (GOOD_HASH, GOOD_HASH))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sqlmodel==0.0.50\n", "sqlmodel: no --hash=sha256:"),
        ("sqlmodel==0.0.50 --hash=md5:00\n", "sqlmodel: no --hash=sha256:"),
        ("sqlmodel==0.0.50 --hash=sha256:00\n", "sqlmodel: no --hash=sha256:"),
        (f"sqlmodel>=0.0.50 {GOOD_HASH}\n", "not an exact"),
        (f"-e . {GOOD_HASH}\n", "not an exact"),
        (f"a==1 {GOOD_HASH}\nA==1 {GOOD_HASH}\n", "a: pinned twice"),
    ],
)
def test_parse_lock_flags_bad_lines(text: str, expected: str) -> None:
    _, problems = parse_lock(text)
    assert any(expected in problem for problem in problems), problems


def pins_of(**versions: str) -> dict[NormalizedName, Pin]:
    return {canonicalize_name(name): Pin(v, (GOOD_HASH,)) for name, v in versions.items()}


@pytest.mark.parametrize(
    ("declared", "pins", "expected"),
    [
        (["uvicorn>=0.54"], pins_of(uvicorn="0.54.0"), "no upper bound"),
        (["uvicorn>=0.54,!=0.60"], pins_of(uvicorn="0.54.0"), "no upper bound"),
        (["uvicorn>=0.54,<0.55"], pins_of(), "missing from"),
        (["uvicorn>=0.54,<0.55"], pins_of(uvicorn="0.55.0"), "outside"),
        (["sqlalchemy[asyncio]>=2.0,<3"], pins_of(sqlalchemy="1.4.54"), "outside"),
        (["meetbot[test]"], pins_of(meetbot="0.1.0"), "the project itself"),
    ],
)
def test_lock_problems_flags_each_mismatch(
    declared: list[str], pins: dict[NormalizedName, Pin], expected: str
) -> None:
    problems = lock_problems(declared, pins, "lock.txt", "meetbot")
    assert any(expected in problem for problem in problems), problems


def test_lock_problems_accepts_bounded_locked_and_foreign_platform_requirements() -> None:
    declared = [
        "uvicorn>=0.54,<0.55",
        "ruff==0.17.5",
        "tenacity~=9.2",
        "meetbot[test]",
        "pywin32>=300,<400; sys_platform == 'win32'",
    ]
    pins = pins_of(uvicorn="0.54.0", ruff="0.17.5", tenacity="9.2.1")
    assert lock_problems(declared, pins, "lock.txt", "meetbot") == []
