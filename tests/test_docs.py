"""The docs keep up with the code: every public name and command is documented with an example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import bt_explore
from bt_explore.cli import COMMANDS
from bt_explore.endpoints import ENDPOINTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

_NOT_CALLABLE = {"__version__", "plots", "recording", "endpoints", "frames", "widgets", "sandbox"}
PUBLIC = sorted(set(bt_explore.__all__) - _NOT_CALLABLE)


def test_readme_opens_with_the_two_commands():
    head = README[:1200]
    assert 'pip install -e ".[dev]" && bt-explore demo' in head
    assert re.search(r"^pytest$", head, re.MULTILINE)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_in_the_readme(name):
    assert re.search(rf"\b{re.escape(name)}\b", README), f"README does not mention {name}"


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_docstring_with_an_example(name):
    obj = getattr(bt_explore, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    if inspect.isclass(obj) and issubclass(obj, Exception):
        return  # the exception tree is drawn, with examples, in bt_explore.errors
    assert "Example" in doc or ">>>" in doc, f"{name}'s docstring shows no example"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_in_the_readme(command):
    assert f"bt-explore {command}" in README


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_endpoint_path_is_in_the_readme(name):
    path = ENDPOINTS[name].path
    tail = path.split("/", 2)[-1] if path.startswith("organization/") else path
    assert tail.split("{")[0].rstrip("/") in README or path in README, (
        f"the README's endpoint table misses {name} ({path})"
    )
