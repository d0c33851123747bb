"""No secret in anything we commit: cassettes and notebooks hold no token or demo credential."""

from __future__ import annotations

from pathlib import Path

from bt_explore.recording import find_secrets

ROOT = Path(__file__).resolve().parent.parent


def _demo_credentials() -> list[str]:
    from bt_explore.sandbox import Sandbox

    sb = Sandbox()  # not started: only its demo data is read
    return [sb.client_id, sb.client_secret]


def test_cassettes_and_notebooks_hold_no_secrets():
    findings = find_secrets([ROOT / "cassettes", ROOT / "notebooks"], secrets=_demo_credentials())
    assert not findings, "secret-looking strings found:\n" + "\n".join(map(str, findings))


def test_the_scan_catches_a_token_planted_in_a_cassette(tmp_path):
    copies = tmp_path / "cassettes"
    copies.mkdir()
    for f in sorted((ROOT / "cassettes").glob("*.yaml")):
        (copies / f.name).write_text(f.read_text())
    assert find_secrets([copies], secrets=_demo_credentials()) == []

    victim = sorted(copies.glob("*.yaml"))[0]
    text = victim.read_text()
    planted_jwt = "eyJhbGciOiJIUzI1NiJ9.eyJvcmciOiJmNngifQ.c2lnbmF0dXJlLXZhbHVl"
    victim.write_text(text.replace("<ACCESS_TOKEN>", planted_jwt, 1))
    # a token in a token answer: JWT-shaped, and an access_token that is not a placeholder
    assert [(f.path.name, f.kind) for f in find_secrets([copies])] == [
        (victim.name, "JWT"),
        (victim.name, "access_token parameter"),
    ]

    victim.write_text(text.replace("%3CCLIENT_ID%3E", _demo_credentials()[0], 1))
    assert [(f.path.name, f.kind) for f in find_secrets([copies], secrets=_demo_credentials())] == [
        (victim.name, "client_id parameter"),
        (victim.name, "configured secret #1"),
    ]
