"""docs/sandbox.md: its Python snippets run, its claims hold."""

from __future__ import annotations

import contextlib
import io
import string

import pytest
from _docs import code_blocks, read, snippets

from bt_explore.sandbox.messages import LOCALES, TEXTS

SECTION = read("sandbox")
SNIPPETS = snippets(SECTION)


def test_section_has_snippets_and_the_commands() -> None:
    assert len(SNIPPETS) >= 4
    assert "bt-explore sandbox --port 8765" in SECTION
    for word in ("set_faults", "expire_tokens", "advance", "requests", "drop_after", "curl"):
        assert word in SECTION


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_python_snippets_run(index: int) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(SNIPPETS[index], f"docs/sandbox.md snippet {index}", "exec"), {})
    printed = out.getvalue()
    if "sb.advance(301)" in SNIPPETS[index]:
        assert "2026-12-01 08:05:01+00:00" in printed
    if "token_requests" in SNIPPETS[index]:
        assert printed.splitlines()[0] == "1 0"


def test_documented_credentials_match_the_data() -> None:
    from bt_explore.sandbox import Sandbox

    sb = Sandbox()
    for value in (sb.client_id, sb.organization_id, sb.other_organization_id):
        assert f"`{value}`" in SECTION


def test_every_message_has_english_and_german_with_the_same_fields() -> None:
    for key, texts in TEXTS.items():
        assert set(texts) == set(LOCALES), key
        fields = [
            {name for _, name, _, _ in string.Formatter().parse(texts[loc]) if name}
            for loc in LOCALES
        ]
        assert fields[0] == fields[1], key


def test_curl_walkthrough_runs_against_a_sandbox() -> None:
    """The page's curl sequence, on a free port instead of 8765."""
    import shutil
    import subprocess

    from bt_explore.sandbox import Sandbox

    if not (shutil.which("bash") and shutil.which("curl") and shutil.which("jq")):
        pytest.skip("needs bash, curl and jq")
    (script,) = [b.code for b in code_blocks(SECTION, "bash") if b.code.startswith("AUTH=")]
    with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
        script = script.replace("127.0.0.1:8765", f"127.0.0.1:{sb.port}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        first, second = done.stdout.strip().splitlines()
        assert first.endswith(" 201") and '"start":"2026-12-01T11:00:00+01:00"' in first
        assert second.endswith(" 400") and '"parameter":"bookingSlotId"' in second
        assert [r.status for r in sb.requests] == [200, 200, 200, 200, 201, 400]
        assert [r.grant_type for r in sb.token_requests] == ["client_credentials", "refresh_token"]
