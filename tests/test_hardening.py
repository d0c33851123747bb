"""Issue 20's smaller gaps, tried from the outside: the sandbox's headers, an over-long request
line, file names that are folders or disguise themselves, ``download_file`` into a folder, the
loopback check at start, and the arguments of ``Client``, ``Sandbox.advance`` and the frame
functions."""

from __future__ import annotations

import base64
import socket

import numpy as np
import pandas as pd
import pytest
import requests
from _sandbox_http import bearer

import bt_explore
from bt_explore import Sandbox, Settings, ValidationError, frames
from bt_explore.client import Client

NOW = "2026-12-01T09:00:00+01:00"
#: the demo appointment that has a demo file (referral.txt)
ERIKA = next(a["id"] for a in Sandbox().appointments() if a.get("customId") == "demo-0001")


@pytest.fixture
def sb(sandbox):
    return sandbox


@pytest.fixture
def client(sandbox):
    with bt_explore.connect(sandbox=sandbox) as c:
        yield c


# --- headers --------------------------------------------------------------------------------------


def _answers(sb, client):
    demo_file = client.appointment(ERIKA)["fileList"][0]["id"]
    org = f"{sb.api_url}en/organization/{sb.organization_id}"
    authorize = {
        "response_type": "code",
        "client_id": sb.client_id,
        "redirect_uri": "http://127.0.0.1:9/callback",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    with requests.Session() as s:
        return {
            "consent page": s.get(sb.authorize_url, params=authorize, timeout=5),
            "JSON answer": s.get(f"{org}/show", headers=bearer(sb), timeout=5),
            "JSON error": s.get(f"{org}/nothing/here", headers=bearer(sb), timeout=5),
            "token answer": s.post(sb.auth_url, data={"grant_type": "x"}, timeout=5),
            "download": s.get(f"{org}/file/{demo_file}/download", headers=bearer(sb), timeout=5),
            "root document": s.get(sb.base_url + "/", timeout=5),
            "foreign Host": s.get(sb.base_url + "/", headers={"Host": "evil.test"}, timeout=5),
        }


def test_every_answer_says_nosniff_and_downloads_carry_a_csp(sb, client):
    answers = _answers(sb, client)
    missing = [
        k for k, a in answers.items() if a.headers.get("X-Content-Type-Options") != "nosniff"
    ]
    assert missing == []
    download = answers["download"]
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "default-src 'none'" in download.headers["Content-Security-Policy"]
    assert "sandbox" in download.headers["Content-Security-Policy"]
    # the consent page keeps its own, stricter-for-pages policy
    assert "style-src" in answers["consent page"].headers["Content-Security-Policy"]


def test_a_request_line_over_64_kib_gets_414_and_the_sandbox_keeps_serving(sb):
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as conn:
        conn.sendall(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = conn.recv(4096).split(b"\r\n\r\n")[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 414") or head.startswith("HTTP/1.0 414"), head
    assert "X-Content-Type-Options: nosniff" in head
    assert requests.get(sb.base_url + "/", timeout=5).status_code == 200


# --- file names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file_name",
    [".", "..", " .. ", "invoice\u202etxt.exe", "a\u2066b.pdf", "x\u200fy", "c1\x85.txt"],
)
def test_folder_names_and_disguising_characters_are_refused_naming_file_name(sb, file_name):
    url = f"{sb.api_url}en/organization/{sb.organization_id}/file/add"
    body = {
        "name": "Note",
        "fileName": file_name,
        "fileContent": base64.b64encode(b"hi").decode(),
        "appointmentId": ERIKA,
    }
    answer = requests.post(url, json=body, headers=bearer(sb), timeout=5)
    assert answer.status_code == 400
    (message,) = answer.json()["messageList"]
    assert message["parameter"] == "fileName" and "'.' or '..'" in message["text"]


def test_the_client_refuses_them_too(client):
    with pytest.raises(ValidationError) as caught:
        client.add_file(ERIKA, "..", b"x")
    assert {m.parameter for m in caught.value.messages} == {"fileName"}


@pytest.mark.parametrize("served_name", ["..", ".", "evil\u202etxt.exe"])
def test_download_into_a_folder_never_uses_a_folder_or_disguised_name(
    sb, client, tmp_path, served_name
):
    # a server that serves such a name (planted behind the sandbox's own check)
    org = sb.organization_id
    stored = sb.state.files.add(org, ERIKA, "planted", served_name, b"payload")
    written = client.download_file(stored.id, tmp_path)
    assert written == tmp_path / stored.id and written.read_bytes() == b"payload"


def test_download_onto_a_folder_is_a_clear_error(client, tmp_path):
    demo = client.appointment(ERIKA)["fileList"][0]
    (tmp_path / demo["fileName"]).mkdir()
    with pytest.raises(ValueError, match="path: .* is a folder"):
        client.download_file(demo["id"], tmp_path)


# --- loopback only, argument checks -----------------------------------------------------------


def test_start_checks_the_host_again():
    sandbox = Sandbox()
    sandbox.host = "0.0.0.0"
    with pytest.raises(ValueError, match="host: the sandbox only listens on loopback"):
        sandbox.start()
    assert not sandbox.running


@pytest.mark.parametrize(
    "seconds, error",
    [("x", TypeError), (None, TypeError), (True, TypeError), (float("nan"), ValueError)],
)
def test_advance_names_its_argument(seconds, error):
    with pytest.raises(error, match="seconds: expected"):
        Sandbox(now=NOW).advance(seconds)


def test_advance_takes_numpy_numbers():
    sandbox = Sandbox(now=NOW)
    sandbox.advance(np.int64(60))
    assert sandbox.now().isoformat() == "2026-12-01T08:01:00+00:00"


SETTINGS = Settings(client_id="23" + "a" * 30, env_file=None)


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"clock": "now"}, "clock must be a callable"),
        ({"session": 5}, "session must be a requests.Session"),
    ],
)
def test_client_arguments_of_the_wrong_type_are_named(kwargs, named):
    with pytest.raises(TypeError, match=named):
        Client(SETTINGS, **kwargs)


# --- frames from numpy arrays -------------------------------------------------------------------------


@pytest.fixture
def records(sb, client):
    templates = client.templates()
    return {
        "templates_frame": templates,
        "template_resources_frame": templates,
        "resources_frame": client.resources(),
        "appointments_frame": sb.appointments(),
        "slots_frame": client.earliest_slot(templates[0]["id"])["bookingSlotList"],
    }


FIVE = [
    "templates_frame",
    "template_resources_frame",
    "resources_frame",
    "appointments_frame",
    "slots_frame",
]


@pytest.mark.parametrize("name", FIVE)
def test_the_frame_functions_read_a_numpy_array_of_records(records, name):
    function = getattr(frames, name)
    expected = function(records[name])
    pd.testing.assert_frame_equal(function(np.array(records[name])), expected)
    pd.testing.assert_frame_equal(function(np.array(records[name], dtype=object)), expected)
    assert list(function(np.array([], dtype=object)).columns) == list(expected.columns)


@pytest.mark.parametrize("name", FIVE)
def test_a_two_dimensional_array_is_a_clear_type_error(records, name):
    with pytest.raises(TypeError, match="expected a one-dimensional array of records"):
        getattr(frames, name)(np.array(records[name]).reshape(-1, 1))


def test_a_record_array_from_a_data_frame_is_read():
    table = pd.DataFrame([{"id": "fc" + "a" * 30, "name": "Massage", "duration": 30}])
    frame = frames.templates_frame(table.to_records(index=False))
    assert frame.loc[0, ["template_id", "name", "duration"]].tolist() == [
        "fc" + "a" * 30,
        "Massage",
        30,
    ]
