"""Record/replay: scrubbing, matching without host/port, atomic saves, the secret scan."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import vcr.errors
import yaml
from vcr.request import Request

from bt_explore import recording
from bt_explore.recording import (
    CassetteMissing,
    find_secrets,
    scrub_request,
    scrub_response,
    use_cassette,
)

FAKE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0LXN1YmplY3QifQ.c2lnbmF0dXJlLXZhbHVl"


class _Handler(BaseHTTPRequestHandler):
    """A tiny token + API server: answers tokens and echoes a counter."""

    hits = 0

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).hits += 1
        if self.path == "/oauth/token":
            self._send(200, {"access_token": FAKE_JWT, "token_type": "Bearer", "expires_in": 300})
        else:
            self._send(201, {"messageList": [], "content": {"id": "ed" + "1" * 30}})

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        self._send(200, {"messageList": [], "content": {"path": self.path, "n": type(self).hits}})


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    _Handler.hits = 0
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cassettes(tmp_path, monkeypatch):
    monkeypatch.setenv(recording.CASSETTE_DIR_ENV, str(tmp_path))
    return tmp_path


def _flow(base: str) -> list[dict]:
    token = requests.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "23secretclientid",
            "client_secret": "",
        },
        timeout=5,
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    got = requests.get(f"{base}/module/v3/en/organization/x/show?a=1", headers=headers, timeout=5)
    booked = requests.post(
        f"{base}/module/v3/en/organization/x/appointment/add",
        json={"bookingSlotId": "4f" + "0" * 30, "customer": {"firstName": "Ada"}},
        headers=headers,
        timeout=5,
    )
    return [token, got.json(), booked.json()]


def test_scrub_request_replaces_authorization_and_body_secrets():
    r = Request(
        "POST",
        "http://h/oauth/token",
        b"grant_type=refresh_token&client_id=23abc&refresh_token="
        + FAKE_JWT.encode()
        + b"&organization_id=f6x",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Bearer " + FAKE_JWT,
        },
    )
    out = scrub_request(r)
    assert out.headers["Authorization"] == "Bearer <ACCESS_TOKEN>"
    body = out.body.decode()
    assert "23abc" not in body and FAKE_JWT not in body
    assert "organization_id=f6x" in body and "grant_type=refresh_token" in body


def test_scrub_request_handles_json_bodies():
    r = Request(
        "POST",
        "http://h/oauth/token",
        json.dumps({"grant_type": "client_credentials", "client_id": "23abc"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert json.loads(scrub_request(r).body) == {
        "grant_type": "client_credentials",
        "client_id": "<CLIENT_ID>",
    }


def test_scrub_response_replaces_tokens_and_drops_volatile_headers():
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Date": ["Tue"], "Server": ["x"], "Content-Type": ["application/json"]},
        "body": {
            "string": json.dumps({"refresh_token": FAKE_JWT, "note": f"x {FAKE_JWT}"}).encode()
        },
    }
    out = scrub_response(response)
    assert set(out["headers"]) == {"Content-Type"}
    body = json.loads(out["body"]["string"])
    assert body["refresh_token"] == "<REFRESH_TOKEN>"
    assert FAKE_JWT not in body["note"]


def test_record_then_replay_on_another_port_without_network(server, cassettes):
    with use_cassette("flow", mode="record", metadata={"source": "test"}):
        recorded = _flow(server)
    text = (cassettes / "flow.yaml").read_text()
    assert FAKE_JWT not in text and "23secretclientid" not in text
    assert yaml.safe_load(text)["bt_explore"]["source"] == "test"
    hits = _Handler.hits

    # replay against a different host and port: nothing listens there, nothing is sent
    with use_cassette("flow", mode="replay"):
        replayed = _flow("http://127.0.0.1:9")
    assert _Handler.hits == hits
    assert replayed[1] == recorded[1] and replayed[2] == recorded[2]
    assert replayed[0]["access_token"] == "<ACCESS_TOKEN>"


def test_replay_fails_when_the_request_body_changes(server, cassettes):
    with use_cassette("flow", mode="record"):
        _flow(server)
    with (
        use_cassette("flow", mode="replay"),
        pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException),
    ):
        requests.post(
            "http://127.0.0.1:9/module/v3/en/organization/x/appointment/add",
            json={"bookingSlotId": "4f" + "0" * 30, "customer": {"firstName": "Bob"}},
            timeout=5,
        )


def test_replay_fails_on_an_unrecorded_request(server, cassettes):
    with use_cassette("flow", mode="record"):
        _flow(server)
    with (
        use_cassette("flow", mode="replay"),
        pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException),
    ):
        requests.get("http://127.0.0.1:9/module/v3/en/organization/y/show", timeout=5)


def test_missing_cassette_says_how_to_record_it(cassettes):
    with pytest.raises(CassetteMissing, match="bt-explore record"), use_cassette("nope"):
        pass


def test_failed_recording_saves_nothing_and_keeps_the_old_cassette(server, cassettes):
    with use_cassette("flow", mode="record"):
        _flow(server)
    before = (cassettes / "flow.yaml").read_text()
    with pytest.raises(RuntimeError), use_cassette("flow", mode="record"):
        requests.get(f"{server}/module/v3/en/other", timeout=5)
        raise RuntimeError("the run failed")
    assert (cassettes / "flow.yaml").read_text() == before
    assert sorted(p.name for p in cassettes.iterdir()) == ["flow.yaml"]


def test_recording_twice_gives_identical_cassettes(server, cassettes):
    texts = []
    for _ in range(2):
        _Handler.hits = 0
        with use_cassette("flow", mode="record", metadata={"recorded_at": "fixed"}):
            _flow(server)
        texts.append((cassettes / "flow.yaml").read_text())
    assert texts[0] == texts[1]


def test_secret_scan_finds_planted_tokens(tmp_path: Path):
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        'Authorization: Bearer <ACCESS_TOKEN>\nbody: \'{"access_token":"<ACCESS_TOKEN>"}\'\n'
    )
    assert find_secrets([tmp_path], secrets=["23demoClientId"]) == []

    planted = tmp_path / "leak.yaml"
    planted.write_text(
        f"ok\nbody: {FAKE_JWT}\nAuthorization: Bearer abcdefghijklmnop1234\nid: 23demoClientId\n"
    )
    kinds = sorted((f.line, f.kind) for f in find_secrets([tmp_path], secrets=["23demoClientId"]))
    assert kinds == [(2, "JWT"), (3, "Bearer value"), (4, "configured secret #1")]
    # a finding names where, never the secret itself
    assert all(
        FAKE_JWT not in str(f) and "23demoClientId" not in str(f)
        for f in find_secrets([tmp_path], secrets=["23demoClientId"])
    )


def test_scrub_request_hides_the_module_id_in_paths_so_any_client_replays():
    """``module/{moduleId}/…`` carries the client id: recorded with one, replayed with another
    (``replay``), the request must match."""
    recorded = Request(
        "GET",
        "http://127.0.0.1:8765/module/v3/en/module/23abc/organization/f6x/organization/list",
        b"",
        {},
    )
    replayed = Request(
        "GET",
        "http://127.0.0.1:9/module/v3/en/module/replay/organization/f6x/organization/list",
        b"",
        {},
    )
    assert scrub_request(recorded).uri == scrub_request(replayed).uri
    assert scrub_request(recorded).path == (
        "/module/v3/en/module/%3CCLIENT_ID%3E/organization/f6x/organization/list"
    )
    other = Request("GET", "http://127.0.0.1:9/module/v3/en/organization/f6x/show", b"", {})
    assert scrub_request(other).path == "/module/v3/en/organization/f6x/show"
