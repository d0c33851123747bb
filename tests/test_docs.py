"""The docs keep up with the code: every public name and command is documented with an example.

The README is short (two commands, a tour, links); the reference lives in ``docs/*.md``. These
tests read both through ``tests/_docs.py``.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import pytest
from _docs import DOCS, ROOT, block, code_blocks, fence_problems, pages, read, snippets

import bt_explore
from bt_explore.cli import COMMANDS
from bt_explore.endpoints import ENDPOINTS
from tools import endpoint_table

README = read("README")
ALL_DOCS = "\n".join(p.read_text(encoding="utf-8") for p in pages())

_NOT_CALLABLE = {"__version__", "plots", "recording", "endpoints", "frames", "widgets", "sandbox"}
PUBLIC = sorted(set(bt_explore.__all__) - _NOT_CALLABLE)
#: The pages the README links to, one per concept; each shows at least one executed snippet.
PAGES = [
    "client",
    "signin",
    "sandbox",
    "frames",
    "scan",
    "widgets",
    "recording",
    "cli",
    "development",
    "performance",
]


# --- the README: short, the two commands first, a link to every page -------------------------


def test_readme_opens_with_the_two_commands():
    head = README[:1600]
    assert re.search(r'^pip install -e "\.\[notebook\]" && bt-explore demo$', head, re.MULTILINE)
    # the development toolchain comes from the lock (docs/development.md#the-lock)
    assert re.search(
        r'^pip install -e "\.\[dev\]" -c constraints\.txt && pytest$', head, re.MULTILINE
    )
    assert code_blocks(README)[0].lang == "bash", "the two commands are the README's first block"


def test_readme_is_short_and_links_every_page():
    assert len(README.encode()) < 8000, "the reference belongs in docs/, the README stays short"
    for name in [*PAGES, "ARCHITECTURE"]:
        assert f"(docs/{name}.md)" in README, f"the README does not link docs/{name}.md"


# --- every page: runnable, balanced, linked ---------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_page_shows_an_executed_snippet(name):
    # test_readme.py executes every ```python block of every page
    assert snippets(read(name)), f"docs/{name}.md has no ```python example"


def test_no_page_is_left_out():
    assert sorted(p.stem for p in DOCS.glob("*.md")) == sorted([*PAGES, "ARCHITECTURE"])


@pytest.mark.parametrize("path", pages(), ids=lambda p: p.name)
def test_code_fences_are_balanced(path):
    assert fence_problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", pages(), ids=lambda p: p.name)
def test_relative_links_point_at_files(path):
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (path.parent / target.split("#")[0]).exists(), f"{path.name}: broken link {target}"


def test_architecture_snippet_prints_what_it_shows():
    (code,) = snippets(read("ARCHITECTURE"))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert f"# {line}" in code, f"printed but not shown: {line!r}"


# --- the fence checker itself -----------------------------------------------------------------

GOOD = """# Title

```python
x = 1   # ``` in a comment is fine, and so is a heading-like line:
# not a heading
```

````markdown
```python
shown, not run
```
````

- a list item

  ```bash
  echo indented
  ```
"""


def test_fence_checker_accepts_good_markdown():
    assert fence_problems(GOOD) == []
    blocks = code_blocks(GOOD)
    assert [(b.lang, b.heading) for b in blocks] == [
        ("python", "Title"),
        ("markdown", "Title"),
        ("bash", "Title"),
    ]
    assert blocks[2].code == "echo indented\n"
    assert snippets(GOOD) == [
        "x = 1   # ``` in a comment is fine, and so is a heading-like line:\n# not a heading\n"
    ]


@pytest.mark.parametrize(
    "broken,problem",
    [
        # the README's old defect: text after the closer, so the fence swallowed "### Errors"
        (
            "```python\nx = 1\n``` `endpoints.py` declares\n\n### Errors\n\n```\ntree\n```\n",
            "inside the fence opened at line 1",
        ),
        ("```python\nx = 1\n", "never closed"),
        ("```\nplain\n```\n", "without a language"),
        ("```python\nx = 1\n```python\ny = 2\n```\n", "cannot open inside another one"),
        ("text\n``` `code` after a fence marker\n", "text after a fence marker"),
        ("```bash\necho\n<!-- END scan -->\n```\n", "section marker"),
        ("```python\nx = 1\n```\n```\n", "without a language"),  # one closer too many
    ],
)
def test_fence_checker_catches_broken_markdown(broken, problem):
    problems = fence_problems(broken)
    assert any(problem in p for p in problems), problems


# --- every public name, command and endpoint is documented --------------------------------------


@pytest.mark.parametrize("name", sorted(bt_explore.__all__))
def test_every_public_name_is_in_the_docs(name):
    docs = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    assert re.search(rf"\b{re.escape(name)}\b", docs), f"docs/ does not mention {name}"


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_docstring_with_an_example(name):
    obj = getattr(bt_explore, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    if inspect.isclass(obj) and issubclass(obj, Exception):
        return  # the exception tree is drawn, with examples, in bt_explore.errors
    assert "Example" in doc or ">>>" in doc, f"{name}'s docstring shows no example"


def _help_commands() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bt_explore.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return re.findall(r"^    (\w[\w-]*) ", done.stdout, re.MULTILINE)  # "    demo   walk …"


def test_help_lists_the_commands():
    assert sorted(_help_commands()) == sorted(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))  # what `bt-explore --help` lists
def test_every_command_is_in_the_docs(command):
    assert f"bt-explore {command}" in read("cli"), f"docs/cli.md does not describe {command}"


def test_the_method_table_names_real_endpoints_and_all_of_them():
    """docs/client.md's method table names endpoint rows (the paths are in the generated
    reference below it): every name it gives is a row, and every row is named."""
    text = read("client")
    table = text[text.index("| method | endpoint") : text.index("### Every endpoint")]
    named = {
        cell
        for line in table.splitlines()[2:]
        for cell in re.findall(r"`([a-z][A-Za-z]*_[A-Za-z_]+)`", line.split(" | ")[-1])
    }
    assert named <= set(ENDPOINTS), sorted(named - set(ENDPOINTS))
    assert set(ENDPOINTS) <= named, sorted(set(ENDPOINTS) - named)


def test_the_endpoint_reference_is_generated_from_the_table():
    assert block(read("client"), "endpoints").lstrip("\n") == endpoint_table.markdown(), (
        "docs/client.md's endpoint reference is out of date: "
        "run `python -m tools.endpoint_table --write-docs`"
    )
    assert len(endpoint_table.markdown().splitlines()) == 2 + len(ENDPOINTS)


# --- performance figures come from the benchmarks ---------------------------------------------

#: A measured ratio such as "5.8×" or "10 × 429"; targets are written "≥ 5×" / "≤ 1.5×".
_FIGURE = re.compile(r"(?<![≥≤] )(?<![≥≤\d.])\d+(?:\.\d+)?\s?×")


@pytest.mark.parametrize("name", ["scan-figures", "frames-figures"])
def test_performance_page_has_the_benchmark_blocks(name):
    text = block(read("performance"), name)
    benchmark = name.split("-")[0]
    assert f"Written by `python -m benchmarks.{benchmark}" in text, (
        f"run `python -m benchmarks.{benchmark} --write-docs` to fill in docs/performance.md"
    )
    assert re.search(r"on \d{4}-\d{2}-\d{2}: \d+ cores", text)


def test_no_hand_typed_speedups():
    for path in pages():
        text = path.read_text(encoding="utf-8")
        for name in ("scan-figures", "frames-figures"):
            if f"<!-- BEGIN {name} -->" in text:
                text = text.replace(block(text, name), "")
        typed = _FIGURE.findall(text)
        assert not typed, f"{path.name} types figures {typed}: let a benchmark write them"


def test_write_docs_replaces_only_its_block(tmp_path, capsys):
    from benchmarks._docs import replace_block, run_and_write

    page = tmp_path / "performance.md"
    page.write_text("intro\n<!-- BEGIN x-figures -->\nold\n<!-- END x-figures -->\nrest\n")

    def main(argv):
        print("measured", *argv)
        return 0

    assert run_and_write("x-figures", main, ["--repeat", "5", "--write-docs"], page=page) == 0
    text = page.read_text()
    assert text.startswith("intro\n<!-- BEGIN x-figures -->\nWritten by `python -m ")
    assert "--repeat 5 --write-docs` on " in text and " cores (" in text
    assert "```text\n$ python -m " in text and "measured --repeat 5\n```\n" in text
    assert text.endswith("<!-- END x-figures -->\nrest\n") and "old" not in text
    assert fence_problems(text) == []
    assert "measured --repeat 5" in capsys.readouterr().out  # still shown on the terminal
    with pytest.raises(ValueError):
        replace_block("no markers here", "x-figures", "new")
