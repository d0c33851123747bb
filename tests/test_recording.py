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


# --- a person's sign-in, recorded ----------------------------------------------------------------


def test_a_recorded_sign_in_holds_none_of_its_secrets(cassettes, monkeypatch):
    """connect(mode="record", auth="user") through the sandbox's sign-in page: the cassette
    holds neither the password nor the codes, state, PKCE pair, tokens or client id, and the
    secret scan finds nothing."""
    from urllib.parse import quote

    import bt_explore
    import bt_explore.signin as signin
    from bt_explore.sandbox.authorize import headless_browser

    seen: dict[str, list[str]] = {"pkce": [], "code": [], "state": []}
    pkce_pair, code_from = signin.pkce_pair, signin._code_from

    def spy_pkce():
        pair = pkce_pair()
        seen["pkce"].extend(pair)
        return pair

    def spy_code(query, state):
        seen["state"].append(state)
        code = code_from(query, state)
        seen["code"].append(code)
        return code

    monkeypatch.setattr(signin, "pkce_pair", spy_pkce)
    monkeypatch.setattr(signin, "_code_from", spy_code)
    monkeypatch.setenv(signin.CONFIG_DIR_ENV, str(cassettes / "config"))
    person = headless_browser("ada@example.com", "ada-demo")
    with bt_explore.connect(
        mode="record", auth="user", cassette="signin", open_browser=False, show_url=person
    ) as client:
        client.templates()
        tokens = [client.auth._refresh.value, *(t.value for t in client.auth._access.values())]
        client_id = client.settings.client_id
    text = (cassettes / "signin.yaml").read_text()
    assert "/oauth/authorize" in text and "grant_type=authorization_code" in text  # recorded
    secrets = {
        "password": "ada-demo",
        "client id": client_id,
        "code verifier": seen["pkce"][0],
        "code challenge": seen["pkce"][1],
        **{f"code {i}": c for i, c in enumerate(seen["code"])},
        **{f"state {i}": s for i, s in enumerate(seen["state"])},
        **{f"token {i}": t for i, t in enumerate(tokens)},
    }
    assert len(secrets) >= 7
    leaked = [name for name, value in secrets.items() if value in text or quote(value) in text]
    assert leaked == []
    assert find_secrets([cassettes], secrets=[client_id, "ada-demo"]) == []


SIGN_IN_SECRET_KINDS = {
    "password parameter": "body: response_type=code&username=ada%40example.com&password=hunter22",
    "code parameter": "  - http://127.0.0.1:5/callback?code=Xq2mZ8vKp4LwT9sR&state=%3CSTATE%3E",
    "state parameter": "uri: http://sandbox.local/oauth/authorize?response_type=code&state=a1B2c3D4e5",
    "code_challenge parameter": "uri: http://x/oauth/authorize?code_challenge=E9Melhoa2OwvFrEMTJ",
    "code_verifier parameter": "body: grant_type=authorization_code&code_verifier=dBjftJeZ4CVPmB9",
    "refresh_token parameter": 'string: \'{"refresh_token":"opaque-refresh-value","expires_in":1}\'',
    "access_token parameter": 'string: \'{"access_token": "opaque-access-value"}\'',
    "client_secret parameter": "body: grant_type=client_credentials&client_secret=s3cr3tValue",
    "client_id parameter": "body: grant_type=client_credentials&client_id=23abcdefabcdef",
    "token parameter": "body: token=opaque-token-value&token_type_hint=refresh_token",
    "state parameter ": '<input type="hidden" name="state" value="oCRO29JtE8R1Ayw6">',
}


@pytest.mark.parametrize("kind", sorted(SIGN_IN_SECRET_KINDS))
def test_the_secret_scan_flags_each_sign_in_secret_when_planted(tmp_path: Path, kind: str):
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        "body: grant_type=authorization_code&code=%3CAUTHORIZATION_CODE%3E&state=%3CSTATE%3E"
        "&password=%3CPASSWORD%3E&code_verifier=%3CCODE_VERIFIER%3E\n"
        'string: \'{"refresh_token":"<REFRESH_TOKEN>","expires_in":1800}\'\n'
        "  - http://127.0.0.1:5/callback?code=%3CAUTHORIZATION_CODE%3E&state=%3CSTATE%3E\n"
        '{"code": "Europe/Berlin", "name": "Europe/Berlin", "state": "booked"}\n'
    )
    assert find_secrets([clean]) == []
    planted = tmp_path / "planted.yaml"
    planted.write_text("ok\n" + SIGN_IN_SECRET_KINDS[kind] + "\n")
    findings = find_secrets([planted])
    assert [(f.line, f.kind) for f in findings] == [(2, kind.strip())]
    assert all(SIGN_IN_SECRET_KINDS[kind].split("=")[-1][:6] not in str(f) for f in findings)


def test_scrub_covers_query_strings_locations_and_sign_in_pages():
    r = Request(
        "GET",
        "http://127.0.0.1:8765/oauth/authorize?response_type=code&client_id=23abc&state=s3cr3t"
        "&code_challenge=chal1234&code_challenge_method=S256",
        None,
        {},
    )
    assert scrub_request(r).uri == (
        "http://sandbox.local/oauth/authorize?response_type=code&client_id=%3CCLIENT_ID%3E"
        "&state=%3CSTATE%3E&code_challenge=%3CCODE_CHALLENGE%3E&code_challenge_method=S256"
    )
    answer = scrub_response(
        {
            "status": {"code": 302},
            "headers": {
                "Location": ["http://127.0.0.1:5/callback?code=c0de1234&state=s3cr3t"],
                "Content-Type": ["text/html; charset=utf-8"],
            },
            "body": {"string": b'<input type="hidden" name="state" value="s3cr3t">'},
        }
    )
    assert answer["headers"]["Location"] == [
        "http://127.0.0.1:5/callback?code=%3CAUTHORIZATION_CODE%3E&state=%3CSTATE%3E"
    ]
    assert b"s3cr3t" not in answer["body"]["string"]


def test_api_bodies_keep_their_code_and_state_fields():
    """``code``/``state`` are sign-in secrets at the auth endpoints, ordinary fields elsewhere."""
    api = Request(
        "POST",
        "http://127.0.0.1:1/module/v3/en/organization/f6x/customEntity/add",
        b'{"code": "room-7", "state": "open", "password": "pw-in-json"}',
        {"Content-Type": "application/json"},
    )
    assert json.loads(scrub_request(api).body) == {
        "code": "room-7",
        "state": "open",
        "password": "<PASSWORD>",
    }
    token = Request(
        "POST",
        "http://127.0.0.1:1/oauth/token",
        b'{"grant_type": "authorization_code", "code": "c0de1234", "state": "s"}',
        {"Content-Type": "application/json"},
    )
    assert json.loads(scrub_request(token).body)["code"] == "<AUTHORIZATION_CODE>"
