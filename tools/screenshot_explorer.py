"""Retake docs/images/booking_explorer.png: the browser test of a person's booking in JupyterLab
(tests/test_browser_lab.py) saves the explorer, booked, from a real render.

It runs that one test with ``--readme-screenshot``: JupyterLab on 127.0.0.1 (isolated, offline),
the notebook ``notebooks/02_booking_explorer.ipynb`` in Debian's Chromium driven by Playwright,
every non-loopback request aborted. Step screenshots land in ``test-artifacts/browser/``.

Usage::

    apt-get install -y chromium          # once; never `playwright install`
    pip install -e ".[dev]"
    python tools/screenshot_explorer.py [--out docs/images/booking_explorer.png]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/test_browser_lab.py::test_a_person_books_and_cancels_in_jupyterlab"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/booking_explorer.png")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    before = out.stat().st_mtime if out.exists() else None
    command = [sys.executable, "-m", "pytest", "-m", "browser", "-n", "0", "-rs", TEST]
    status = subprocess.call([*command, f"--readme-screenshot={out}"], cwd=ROOT)
    if status != 0:
        return status
    if not out.exists() or out.stat().st_mtime == before:
        print(f"{out} was not written: the test was skipped (see above)", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
