"""Files: ``file/add`` (base64, size limit, linked to an appointment) and ``file/{id}/download``
(raw bytes), over real HTTP against a Sandbox, through the client and raw."""

from __future__ import annotations

import base64

import pytest
import requests
from _sandbox_http import bearer

import bt_explore
from bt_explore import NotFound, PermissionDenied, Sandbox, ValidationError
from bt_explore.client import default_retry

NOW = "2026-12-01T09:00:00+01:00"
ERIKA = "edRyJjDPFx0GQzjXG6YU8g7U6Lz9hiCd"  # demo-0001, with the demo file referral.txt


@pytest.fixture(scope="module")
def sb():
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb):
    with bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0)) as c:
        yield c


def _parameters(exc: pytest.ExceptionInfo) -> set[str | None]:
    return {m.parameter for m in exc.value.messages}


def test_an_added_file_shows_in_its_appointment_and_downloads_as_raw_bytes(client, tmp_path):
    content = bytes(range(256)) * 3
    added = client.add_file(ERIKA, "scan.pdf", content, name="Knee scan", custom_id="files-1")
    assert added["class"] == "FILE" and added["id"].startswith("w1")
    assert (added["name"], added["fileName"], added["mimeType"], added["size"]) == (
        "Knee scan",
        "scan.pdf",
        "application/pdf",
        768,
    )
    assert added["appointmentId"] == ERIKA and added["customId"] == "files-1"
    assert added["timestampAdd"].startswith("2026-12-01T09:00:00+01:00")
    listed = client.appointment(ERIKA)["fileList"]
    assert listed[0]["fileName"] == "referral.txt"  # the demo file of files.json
    assert listed[-1] == added
    assert client.appointment_by_custom_id("demo-0001")["fileList"] == listed
    assert client.download_file(added["id"]) == content
    written = client.download_file(added["id"], tmp_path)
    assert written == tmp_path / "scan.pdf" and written.read_bytes() == content
    assert client.download_file(added["id"], tmp_path / "x.bin").read_bytes() == content


def test_add_file_reads_a_path(client, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Bring the X-ray.\n")
    added = client.add_file(ERIKA, path)
    assert (added["name"], added["fileName"], added["size"]) == ("notes.txt", "notes.txt", 17)
    assert client.download_file(added["id"]) == b"Bring the X-ray.\n"


def test_download_headers(sb, client):
    demo = client.appointment(ERIKA)["fileList"][0]
    url = f"{sb.api_url}en/organization/{sb.organization_id}/file/{demo['id']}/download"
    answer = requests.get(url, headers=bearer(sb), timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.headers["Content-Disposition"] == "attachment; filename=referral.txt"
    assert answer.content.startswith(b"Referral for Erika")
    added = client.add_file(ERIKA, "Ärzte bericht.txt", "ü".encode())
    url = url.replace(demo["id"], added["id"])
    disposition = requests.get(url, headers=bearer(sb), timeout=5).headers["Content-Disposition"]
    assert "filename*=UTF-8''%C3%84rzte%20bericht.txt" in disposition
    assert client.download_file(added["id"]) == "ü".encode()


def test_unknown_and_malformed_file_ids_are_404(client):
    with pytest.raises(NotFound) as info:
        client.download_file("w1" + "0" * 30)
    assert _parameters(info) == {"fileId"}
    with pytest.raises(NotFound) as info:
        client.download_file("ed" + "0" * 30)
    assert _parameters(info) == {"fileId"}


def test_other_organization_is_403(client, sb):
    with pytest.raises(PermissionDenied):
        client.download_file("w1" + "0" * 30, organization_id=sb.other_organization_id)
    with pytest.raises(PermissionDenied):
        client.add_file(ERIKA, "a.txt", b"x", organization_id=sb.other_organization_id)


@pytest.mark.parametrize(
    ("body", "parameter", "words"),
    [
        ({"fileContent": "%%%"}, "fileContent", "base64"),
        ({"fileContent": "aGk"}, "fileContent", "base64"),  # padding missing
        ({"fileContent": 12}, "fileContent", "string"),
        ({"fileContent": ""}, "fileContent", "required"),
        ({"fileName": "../etc/passwd"}, "fileName", "file name"),
        ({"fileName": None}, "fileName", "required"),
        ({"name": ["x"]}, "name", "string"),
        ({"name": "x" * 256}, "name", "too long"),
        ({"appointmentId": "ed" + "0" * 30}, "appointmentId", "No appointment"),
        ({"appointmentId": "fc" + "0" * 30}, "appointmentId", "not a valid appointment id"),
        ({"appointmentId": 5}, "appointmentId", "string"),
        ({"customId": 5}, "customId", "string"),
        ({"customId": "c" * 129}, "customId", "too long"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(sb, body, parameter, words):
    good = {
        "name": "Note",
        "fileName": "note.txt",
        "fileContent": base64.b64encode(b"hi").decode(),
        "appointmentId": ERIKA,
    }
    url = f"{sb.api_url}en/organization/{sb.organization_id}/file/add"
    answer = requests.post(url, json={**good, **body}, headers=bearer(sb), timeout=5)
    assert answer.status_code == 400, answer.text
    messages = answer.json()["messageList"]
    assert [m["parameter"] for m in messages] == [parameter]
    assert words in messages[0]["text"]


def test_too_large_and_taken_custom_id_are_400(client, sb):
    limit = sb.state.files.max_size
    with pytest.raises(ValidationError) as info:
        client.add_file(ERIKA, "big.bin", b"\0" * (limit + 1))
    assert _parameters(info) == {"fileContent"}
    assert "too large" in str(info.value)
    before = len(client.appointment(ERIKA)["fileList"])
    client.add_file(ERIKA, "a.txt", b"a", custom_id="files-taken")
    with pytest.raises(ValidationError) as info:
        client.add_file(ERIKA, "b.txt", b"b", custom_id="files-taken")
    assert _parameters(info) == {"customId"}
    assert len(client.appointment(ERIKA)["fileList"]) == before + 1  # nothing stored on failure


def test_a_huge_body_is_413(sb):
    url = f"{sb.api_url}en/organization/{sb.organization_id}/file/add"
    body = {"name": "x", "fileName": "x.bin", "fileContent": "A" * (2 * 1024 * 1024)}
    answer = requests.post(url, json=body, headers=bearer(sb), timeout=5)
    assert answer.status_code == 413


def test_add_file_wants_bytes(client):
    with pytest.raises(TypeError):
        client.add_file(ERIKA, "a.txt", "text")  # type: ignore[arg-type]


def test_call_answers_a_download_with_the_raw_bytes(client):
    demo = client.appointment(ERIKA)["fileList"][0]
    result = client.call("file_download", file_id=demo["id"])
    assert result.status_code == 200 and result.messages == ()
    assert result.content.startswith(b"Referral for Erika")
    assert repr(result).endswith(f"content=<{demo['size']} bytes>)")


@pytest.mark.parametrize("file_name", ['a"b;c.txt', "日本", "x\u2028y.bin", "🙂.png"])
def test_odd_file_names_are_served_back(client, tmp_path, file_name):
    added = client.add_file(ERIKA, file_name, b"odd")
    assert added["fileName"] == file_name
    assert client.download_file(added["id"]) == b"odd"
    written = client.download_file(added["id"], tmp_path)
    assert written.parent == tmp_path and written.read_bytes() == b"odd"


def test_failures_speak_german(sb):
    url = f"{sb.api_url}de/organization/{sb.organization_id}/file/add"
    body = {"name": "x", "fileName": "x.txt", "fileContent": "%", "appointmentId": ERIKA}
    answer = requests.post(url, json=body, headers=bearer(sb), timeout=5)
    assert answer.status_code == 400
    assert "Base64" in answer.json()["messageList"][0]["text"]
