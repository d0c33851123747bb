"""Every Python snippet in the README runs, section by section, offline.

Snippets of one section share a namespace, in order, as a reader would paste them. The
``Connect`` and ``Settings`` snippets show live configuration: they run with a placeholder client
id in the environment, which only constructs clients (no request is sent before the first call,
and the network guard in the root conftest would refuse one anyway).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

_PATTERN = re.compile(r"^(#{2,3} [^\n]*)$|^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LIVE_CONFIG_SECTIONS = {"### Connect", "### Settings"}


def _sections() -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = [("(top)", [])]
    for match in _PATTERN.finditer(README):
        if match.group(1):
            sections.append((match.group(1), []))
        else:
            sections[-1][1].append(match.group(2))
    return [(title, blocks) for title, blocks in sections if blocks]


SECTIONS = _sections()


def test_the_readme_has_snippets():
    assert len(SECTIONS) >= 10


@pytest.mark.parametrize("title,blocks", SECTIONS, ids=[t for t, _ in SECTIONS])
def test_readme_snippets_run(title, blocks, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("BT_EXPLORE_MODE", raising=False)
    for var in (
        "BOOKINGTIME_CLIENT_ID",
        "BOOKINGTIME_ORGANIZATION_ID",
        "BOOKINGTIME_CLIENT_SECRET",
    ):
        monkeypatch.delenv(var, raising=False)
    if title in _LIVE_CONFIG_SECTIONS:
        monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23" + "0" * 30)
        monkeypatch.setenv("BOOKINGTIME_ORGANIZATION_ID", "f6" + "0" * 30)
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, f"README.md {title}", "exec"), namespace)  # noqa: S102
    for value in list(namespace.values()):
        close = getattr(value, "close", None)
        if type(value).__name__ == "Client" and callable(close):
            close()
