"""The development lock (``constraints.txt``) pins every package pyproject.toml declares.

README command 2 installs with ``-c constraints.txt``; a dependency added to pyproject.toml
without refreshing the lock would be resolved afresh on every machine, which is what the lock is
there to prevent. docs/development.md says how to refresh it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

packaging_requirements = pytest.importorskip("packaging.requirements")
packaging_markers = pytest.importorskip("packaging.markers")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomli = pytest.importorskip("tomli")
    tomllib = tomli

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)(?:\s*;\s*(.+))?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, list[tuple[str, str | None]]]:
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins.setdefault(_norm(match[1]), []).append((match[2], match[3]))
    return pins


def _declared() -> list:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    requirements = [packaging_requirements.Requirement(t) for t in texts]
    return [r for r in requirements if _norm(r.name) != _norm(project["name"])]


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13"])
def test_the_lock_pins_every_declared_package_within_its_range(python):
    pins = _lock()
    environment = {"python_version": python, "python_full_version": f"{python}.0"}
    problems = []
    for requirement in _declared():
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        versions = [
            version
            for version, marker in pins.get(_norm(requirement.name), [])
            if marker is None or packaging_markers.Marker(marker).evaluate(environment)
        ]
        if not versions:
            problems.append(f"{requirement.name}: not pinned for Python {python}")
        elif not all(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(
                f"{requirement.name}: locked {versions} outside {requirement.specifier}"
            )
    assert not problems, "constraints.txt is stale (see docs/development.md): " + "; ".join(
        problems
    )
