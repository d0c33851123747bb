"""Count the string literals that spell a wire name of :mod:`bt_explore.models` by hand.

A wire name is the camelCase name a model field has on the wire (``priceGross``,
``bookingSlotId``); the models declare them once, so code elsewhere should reach them through
the models (``msgspec.structs.fields``, an instance's attributes) rather than restate them. This
tool walks each module's syntax tree (``ast``) and lists every string constant that is such a
name, or a dotted parameter path with one (``"customer.firstName"``). Docstrings do not count.
A literal on a line whose comment starts with ``# wire:`` is listed as explained (the comment
says why it is spelled out there) and is not counted.

Usage:
    python -m tools.wire_literals            # per module: count (and explained literals)
    python -m tools.wire_literals -v         # ... and each literal with its line
    python -m tools.wire_literals bt_explore/sandbox/app.py

Example:
    >>> names = wire_names()
    >>> "priceGross" in names and "class" not in names
    True
    >>> [hit.text for hit in literals('x = {"priceGross": 1, "name": "customer.firstName"}', names)]
    ['priceGross', 'customer.firstName']
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import re
import sys
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from bt_explore import models

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bt_explore"
#: Where the wire names are declared: their literals there are the declaration.
DECLARING = ("bt_explore/models.py", "bt_explore/endpoints.py")
#: The comment that explains a literal on its line.
EXPLAINED = re.compile(r"#\s*wire:")
_PATH_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def wire_names() -> frozenset[str]:
    """The camelCase wire names the models declare (their fields' ``encode_name``).

    Example:
        >>> sorted(n for n in wire_names() if n.startswith("record"))
        ['recordLimit', 'recordList', 'recordTotal']
    """
    found: set[str] = set()
    for _, obj in inspect.getmembers(models, inspect.isclass):
        if issubclass(obj, msgspec.Struct):
            found.update(f.encode_name for f in msgspec.structs.fields(obj))
    return frozenset(n for n in found if n != n.lower())


@dataclass(frozen=True)
class Literal:
    """One string constant that spells a wire name: its text and line, explained or not."""

    text: str
    line: int
    explained: bool


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a module, its classes and functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
        ):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _explained_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and EXPLAINED.match(token.string):
            lines.add(token.start[0])
    return lines


def _spells(text: str, names: frozenset[str]) -> bool:
    if text in names:
        return True
    parts = text.split(".")
    return (
        len(parts) > 1
        and all(_PATH_PART.fullmatch(p) for p in parts)
        and any(p in names for p in parts)
    )


def literals(source: str, names: frozenset[str]) -> list[Literal]:
    """The string constants of ``source`` that spell one of ``names`` (docstrings aside).

    Example:
        >>> [(h.text, h.explained) for h in literals('a = "taxRate"  # wire: why', wire_names())]
        [('taxRate', True)]
    """
    tree = ast.parse(source)
    skip = _docstrings(tree)
    explained = _explained_lines(source)
    hits: list[tuple[int, int, Literal]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and _spells(node.value, names)
        ):
            last = getattr(node, "end_lineno", node.lineno) or node.lineno
            said = any(n in explained for n in range(node.lineno, last + 1))
            hits.append((node.lineno, node.col_offset, Literal(node.value, node.lineno, said)))
    return [hit for _, _, hit in sorted(hits, key=lambda h: h[:2])]


def count(paths: Iterable[Path] | None = None) -> dict[str, list[Literal]]:
    """Module path (relative to the repository) -> its wire-name literals, for every module
    of the package outside the declaring ones (or for ``paths``).

    Example:
        >>> "bt_explore/models.py" in count()
        False
    """
    names = wire_names()
    chosen = sorted(PACKAGE.rglob("*.py")) if paths is None else [Path(p) for p in paths]
    out: dict[str, list[Literal]] = {}
    for path in chosen:
        relative = path.resolve().relative_to(ROOT).as_posix()
        if relative in DECLARING:
            continue
        hits = literals(path.read_text(encoding="utf-8"), names)
        if hits:
            out[relative] = hits
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="modules (default: the package)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every literal")
    args = parser.parse_args(argv)
    found = count(args.paths or None)
    total = 0
    for module, hits in sorted(found.items(), key=lambda kv: -len(kv[1])):
        counted = [h for h in hits if not h.explained]
        total += len(counted)
        extra = f" (+{len(hits) - len(counted)} explained)" if len(hits) > len(counted) else ""
        print(f"{len(counted):4d}  {module}{extra}")
        if args.verbose:
            for hit in hits:
                mark = " (explained)" if hit.explained else ""
                print(f"        {hit.line:5d}  {hit.text}{mark}")
    print(f"{total:4d}  total in {len(found)} modules ({len(wire_names())} wire names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
