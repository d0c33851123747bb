"""Every Python snippet in the README and the docs/ pages runs, section by section, offline.

Snippets of one section (the text under one heading) share a namespace, in order, as a reader
would paste them. No snippet is skipped. The client page's ``Connect`` and ``Settings``
snippets show live configuration: they run with a placeholder client id in the environment,
which only constructs clients (no request is sent before the first call, and the network guard
in the root conftest would refuse one anyway).
"""

from __future__ import annotations

import pytest
from _docs import pages, sections

_LIVE_CONFIG_SECTIONS = {("client.md", "Connect"), ("client.md", "Settings")}

SECTIONS = [
    (path.name, title, blocks)
    for path in pages()
    for title, blocks in sections(path.read_text(encoding="utf-8"))
]


def test_the_docs_have_snippets():
    assert len(SECTIONS) >= 19
    assert sum(len(blocks) for _, _, blocks in SECTIONS) >= 28


@pytest.mark.parametrize(
    "page,title,blocks", SECTIONS, ids=[f"{page}::{title}" for page, title, _ in SECTIONS]
)
def test_doc_snippets_run(page, title, blocks, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    # the root conftest gives an empty working directory and no BOOKINGTIME_* variables; the
    # snippets run as a newcomer's would, but never with the session's replay mode
    monkeypatch.delenv("BT_EXPLORE_MODE", raising=False)
    if (page, title) in _LIVE_CONFIG_SECTIONS:
        monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23" + "0" * 30)
        monkeypatch.setenv("BOOKINGTIME_ORGANIZATION_ID", "f6" + "0" * 30)
    namespace: dict[str, object] = {"__name__": "docs"}
    for block in blocks:
        exec(compile(block, f"{page} {title}", "exec"), namespace)  # noqa: S102
    for value in list(namespace.values()):
        if type(value).__name__ == "BookingExplorer":
            assert value.wait(timeout=30), f"{page} {title}: the explorer's work did not finish"
    for value in list(namespace.values()):
        close = getattr(value, "close", None)
        if type(value).__name__ == "Client" and callable(close):
            close()
