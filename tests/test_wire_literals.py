"""The contract's wire names are spelled in models.py, not again by hand (tools/wire_literals.py).

The counter walks each module's syntax tree for string constants that are a model field's
camelCase wire name (or a dotted parameter path with one). The sandbox, the frames and the
booking rules reach those names through the models; the counts below hold them where this
change brought them (lower them as code moves to the models; never raise them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.wire_literals import ROOT, count, literals, main, wire_names

#: Module -> the most wire-name literals it may spell (explained ones, ``# wire:``, aside).
HELD = {
    "bt_explore/frames.py": 0,
    "bt_explore/rules.py": 0,
    "bt_explore/sandbox/app.py": 0,
    "bt_explore/sandbox/custom_entity_api.py": 0,
    "bt_explore/sandbox/engine.py": 0,
    "bt_explore/sandbox/messages.py": 0,
    "bt_explore/sandbox/openapi.py": 0,
    "bt_explore/sandbox/state.py": 0,
    "bt_explore/sandbox/custom_entities.py": 0,
    "bt_explore/sandbox/categories.py": 0,
    "bt_explore/sandbox/dialect.py": 0,
    "bt_explore/sandbox/observed.py": 0,
    "bt_explore/sandbox/files.py": 0,
    "bt_explore/client/__init__.py": 0,
    "bt_explore/client/booking.py": 0,
    "bt_explore/client/custom_entities.py": 0,
    "bt_explore/client/entities.py": 0,
    "bt_explore/client/memory.py": 0,
    "bt_explore/client/slots.py": 0,
    "bt_explore/client/transport.py": 0,
    "bt_explore/errors.py": 0,
    "bt_explore/twin.py": 0,
    "bt_explore/verification.py": 0,
    "bt_explore/_cli/sandbox.py": 0,
}


def test_no_module_of_the_package_spells_a_wire_name_without_saying_why() -> None:
    # the whole package, models.py and endpoints.py (where the names are declared) aside
    modules = [
        p
        for p in sorted((ROOT / "bt_explore").rglob("*.py"))
        if p.name not in ("models.py", "endpoints.py")
    ]
    unexplained = {
        module: [f"{h.line}: {h.text}" for h in hits if not h.explained]
        for module, hits in count(modules).items()
    }
    assert not {m: hits for m, hits in unexplained.items() if hits}


@pytest.mark.parametrize("module", sorted(HELD))
def test_a_module_spells_no_more_wire_names_than_it_did(module: str) -> None:
    hits = count([ROOT / module]).get(module, [])
    counted = [f"{h.line}: {h.text}" for h in hits if not h.explained]
    assert len(counted) <= HELD[module], counted


def test_every_sandbox_module_is_held() -> None:
    sandbox = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "bt_explore" / "sandbox").glob("*.py")
    }
    assert {m for m in sandbox if count([ROOT / m])} <= set(HELD)


def test_the_counter_finds_names_and_paths_and_skips_docstrings_and_explained_lines() -> None:
    names = wire_names()
    source = '''"""A docstring naming priceGross."""
x = {"priceGross": 1, "name": "customer.firstName", "plain": "price_gross"}
y = "taxRate"  # wire: a comment says why
def f():
    """customId in a docstring"""
    return f"customer.{x}"
'''
    found = [(h.text, h.line, h.explained) for h in literals(source, names)]
    assert found == [
        ("priceGross", 2, False),
        ("customer.firstName", 2, False),
        ("taxRate", 3, True),
    ]


def test_the_command_prints_a_count_per_module_and_the_total(capsys, tmp_path: Path) -> None:
    module = ROOT / "bt_explore" / "sandbox" / "state.py"
    assert main([str(module)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("bt_explore/sandbox/state.py (+1 explained)")
    assert out[-1].split()[1:3] == ["total", "in"]
