"""The environment-variable list of ``docs/client.md``, generated from the settings' table.

Usage::

    python -m tools.variables_table              # print it
    python -m tools.variables_table --write-docs  # put it into docs/client.md
"""

from __future__ import annotations

import sys

from benchmarks._docs import replace_block
from bt_explore.settings import variables_markdown
from tools.endpoint_table import CLIENT_PAGE

BLOCK = "variables"


def main(argv: list[str] | None = None) -> int:
    """Print the table; with ``--write-docs`` also put it into ``docs/client.md``."""
    argv = sys.argv[1:] if argv is None else argv
    text = variables_markdown()
    print(text, end="")
    if "--write-docs" in argv:
        page = CLIENT_PAGE.read_text(encoding="utf-8")
        CLIENT_PAGE.write_text(replace_block(page, BLOCK, text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
