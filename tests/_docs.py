"""Read the README and the ``docs/`` pages for the tests: pages, sections, snippets, fences.

One parser for all of them: a small state machine over the lines that finds the fenced code
blocks (and refuses unbalanced or mis-nested fences), so a snippet is what a Markdown renderer
shows as one, and headings inside code blocks are not taken for sections.

Example:
    >>> [b.lang for b in code_blocks("# t\\n```python\\nx = 1\\n```\\n")]
    ['python']
    >>> len(fence_problems("```python\\nx = 1\\n``` and text\\n# Next\\n"))  # not closed
    2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

#: A fence line: up to 3 spaces, 3+ backticks or tildes, the rest (info string or stray text).
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_MARKER = re.compile(r"<!-- (BEGIN|END) [\w-]+ -->")


def pages() -> list[Path]:
    """The README and every page in ``docs/``."""
    return [README, *sorted(DOCS.glob("*.md"))]


def page_path(name: str) -> Path:
    """``"README"`` or a docs page's name without ``.md`` (``"client"``) → its path."""
    return README if name == "README" else DOCS / f"{name}.md"


def read(name: str) -> str:
    """The text of a page (see :func:`page_path`)."""
    return page_path(name).read_text(encoding="utf-8")


def block(text: str, name: str) -> str:
    """The text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    assert text.count(begin) == 1 and text.count(end) == 1, f"no single {begin} … {end} block"
    return text[text.index(begin) + len(begin) : text.index(end)]


@dataclass
class CodeBlock:
    lang: str  # first word of the info string ("" when none)
    line: int  # line number of the opening fence, from 1
    code: str
    heading: str = "(top)"  # the nearest heading above it, without the #s
    section: int = 0  # how many headings come before it


@dataclass
class _Scan:
    blocks: list[CodeBlock] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _scan(text: str) -> _Scan:
    """Walk the lines once: outside a fence look for headings and openers, inside for the closer."""
    out = _Scan()
    heading, section = "(top)", 0
    opened: tuple[int, str, str, str] | None = None  # line, indent, marker, lang
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = _FENCE.match(line)
        if opened is None:
            if fence is None:
                if match := _HEADING.match(line):
                    heading, section = match.group(2), section + 1
                continue
            indent, marker, info = fence.group(1), fence.group(2), fence.group(3).strip()
            if marker[0] == "`" and "`" in info:
                # CommonMark: not a fence at all, so whatever opened or closed here is lost
                out.problems.append(
                    f"line {number}: text after a fence marker: {line!r} (a closing fence "
                    "stands alone)"
                )
                continue
            if not info:
                out.problems.append(
                    f"line {number}: a fence opens without a language (write ```text for plain "
                    "text), or closes a fence that was never opened"
                )
            opened, lines = (number, indent, marker, info.split()[0] if info else ""), []
            continue
        start, indent, marker, lang = opened
        same_kind = fence is not None and fence.group(2)[0] == marker[0]
        if same_kind and len(fence.group(2)) >= len(marker):
            if not fence.group(3).strip():
                out.blocks.append(CodeBlock(lang, start, "".join(lines), heading, section))
                opened = None
                continue
            out.problems.append(
                f"line {number}: {line!r} inside the fence opened at line {start}: a fence "
                "cannot open inside another one, and a closing fence stands alone"
            )
        if _MARKER.search(line):
            out.problems.append(
                f"line {number}: section marker {line.strip()!r} inside the fence opened at "
                f"line {start}"
            )
        # an indented fence (in a list item) indents its code as much: take that off
        lines.append((line[len(indent) :] if line.startswith(indent) else line.lstrip(" ")) + "\n")
    if opened is not None:
        out.problems.append(f"line {opened[0]}: the fence opened here is never closed")
    return out


def fence_problems(text: str) -> list[str]:
    """What is wrong with the code fences of a Markdown text; ``[]`` when they are balanced.

    Rules: every opening fence names its language; a closing fence is the opener's marker
    (at least as long) alone on its line; no fence of the same kind opens inside a block; a
    ``<!-- BEGIN/END … -->`` marker never sits inside a block; every block is closed."""
    return _scan(text).problems


def code_blocks(text: str, lang: str | None = None) -> list[CodeBlock]:
    """The fenced code blocks of a Markdown text (only those in ``lang``, if given)."""
    return [b for b in _scan(text).blocks if lang is None or b.lang == lang]


def snippets(text: str, lang: str = "python") -> list[str]:
    """The code of every ``lang`` block, in order."""
    return [b.code for b in code_blocks(text, lang)]


def sections(text: str, lang: str = "python") -> list[tuple[str, list[str]]]:
    """``(heading, [code, …])`` for every section that has ``lang`` blocks, in order."""
    grouped: dict[int, tuple[str, list[str]]] = {}
    for b in code_blocks(text, lang):
        grouped.setdefault(b.section, (b.heading, []))[1].append(b.code)
    return list(grouped.values())
