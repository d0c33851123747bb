"""bookingtime's Module API walkthrough, verbatim, against ``bt-explore sandbox``.

Every request of ``../shared/api/module-api-walkthrough.txt`` (the raw HTTP examples and the curl
commands) is read from the file itself and sent as printed: only the host, the ids and the
secrets are substituted (the client id, the organization and template ids, the refresh and
access tokens, the slot id). Each must get the answer the walkthrough shows: the status, every
key the example answer shows, its ``class`` values and its literal token figures. When the
walkthrough's requests change shape (another number of requests, a request this test cannot
read), the test fails rather than silently testing less.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from _sandbox_cli import ROOT, sandbox_cli

from conftest import SANDBOX_NOW

#: CI and the engineers' machines see the shared folder next to the checkout.
WALKTHROUGH = ROOT.parent / "shared" / "api" / "module-api-walkthrough.txt"
#: The walkthrough's template (e-mail required), which the demo practice keeps under its id.
TEMPLATE = "fc12345678910AbcDefGh1112131415a"
#: The headers a raw example prints (its lines run into each other in the published page).
_HEADER = re.compile(r"\b(Host|Authorization|Content-Type|Content-Length):\s*")
_RAW_START = re.compile(r"^(GET|POST|PUT) (/\S*) HTTP/1\.1\b(.*)$")


@dataclass
class Request:
    """One request as the walkthrough prints it."""

    kind: str  # "raw" or "curl"
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    section: int
    expected: str = ""  # the text of the example answer it should get

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def form_value(self, name: str) -> str | None:
        found = re.search(rf"(?:^|&){name}=([^&]*)", self.body or "")
        found = found or re.search(rf'"{name}"\s*:\s*"([^"]*)"', self.body or "")
        return found.group(1) if found else None


def _raw_request(lines: list[str], section: int) -> Request:
    first = _RAW_START.match(lines[0])
    assert first, lines[0]
    method, path, rest = first.groups()
    text = " ".join([rest.strip(), *(line.strip() for line in lines[1:])]).strip()
    parts = _HEADER.split(text)
    assert parts[0] == "", f"text before the headers of {lines[0]!r}: {parts[0]!r}"
    headers = {name: value.strip() for name, value in zip(parts[1::2], parts[2::2], strict=True)}
    body = None
    if "Content-Length" in headers:
        length, _, body = headers.pop("Content-Length").partition(" ")
        assert length.isdigit(), headers
        body = body.strip() or None
    host = headers.pop("Host")
    assert host.endswith("bookingtime.com"), host
    return Request("raw", method, f"https://{host}{path}", headers, body, section)


def _curl_request(words: list[str], section: int) -> Request:
    method, url, headers, data = "GET", None, {}, []
    it = iter(words[1:])
    for word in it:
        if word == "-X":
            method = next(it)
        elif word == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data.append(next(it))
        elif word.startswith("https://"):
            url = word
        else:
            raise AssertionError(f"a curl argument this test cannot read: {word!r}")
    assert url, words
    if data and method == "GET":
        method = "POST"  # curl -d without -X posts
    return Request("curl", method, url, headers, "&".join(data) or None, section)


def read_walkthrough(text: str) -> list[Request]:
    """The walkthrough's requests in order, each with the example answer of its section."""
    lines = text.splitlines()
    found: list[Request] = []
    answers: dict[int, str] = {}
    section, i = 0, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Example Request:"):
            section += 1
        elif line.startswith("Example Response:"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith(("Example Request:", "Comments")):
                end += 1
            answers[section] = "\n".join(lines[i + 1 : end])
        elif _RAW_START.match(line):
            end = i + 1
            while not lines[end].startswith("curl "):
                end += 1
            found.append(_raw_request(lines[i:end], section))
            i = end
            continue
        elif line.startswith("curl "):
            joined = line
            while joined.endswith("\\"):
                i += 1
                joined = joined[:-1] + " " + lines[i]
            words = shlex.split(joined)
            if not any(w.startswith("https://") for w in words):
                i += 1  # the walkthrough prints the URL on the next line
                words.append(lines[i].strip())
            found.append(_curl_request(words, section))
        i += 1
    for request in found:
        request.expected = answers.get(request.section, "")
    return found


def _walkthrough() -> str:
    if not WALKTHROUGH.is_file():
        pytest.skip(
            f"bookingtime's walkthrough is not at {WALKTHROUGH} (CI and the project's machines "
            "keep it in ../shared/api next to the checkout)"
        )
    return WALKTHROUGH.read_text(encoding="utf-8")


def test_the_walkthrough_prints_five_raw_requests_and_six_curl_commands():
    """The shape this test relies on: if bookingtime's page changes, this says how."""
    requests_ = read_walkthrough(_walkthrough())
    shape = [(r.kind, r.method, re.sub(r"/[0-9a-zA-Z]{30,32}/", "/ID/", r.path)) for r in requests_]
    assert shape == [
        ("curl", "GET", "/app/v3/"),
        ("raw", "POST", "/oauth/token"),
        ("curl", "POST", "/oauth/token"),
        ("raw", "POST", "/oauth/token"),
        ("curl", "POST", "/oauth/token"),
        ("raw", "POST", "/oauth/token"),
        ("curl", "GET", "/module/v3/de/organization/ID/bookingTemplate/list"),
        ("raw", "GET", "/module/v3/de/organization/ID/bookingTemplate/ID/bookingSlot/earliest"),
        ("curl", "GET", "/module/v3/de/organization/f6...YOUR_ORGANIZATION_ID/bookingTemplate/ID/bookingSlot/earliest"),
        ("raw", "POST", "/module/v3/de/organization/ID/appointment/add"),
        ("curl", "POST", "/module/v3/de/organization/ID/appointment/add"),
    ]  # fmt: skip


# --- substitution: host, ids and secrets, nothing else -------------------------------------
def _set_value(body: str, name: str, value: str) -> str:
    """``body`` with the value of field ``name`` replaced, in a form or in JSON."""
    body = re.sub(rf"((?:^|&){name}=)[^&]*", lambda m: m.group(1) + value, body)
    return re.sub(rf'("{name}"\s*:\s*")[^"]*(")', lambda m: m.group(1) + value + m.group(2), body)


def _substitute(request: Request, base: str, ids: dict[str, str]) -> tuple[str, dict, str | None]:
    parts = urlsplit(request.url)
    path = re.sub(
        r"(/organization/)[^/]+", lambda m: m.group(1) + ids["organization_id"], parts.path
    )
    path = re.sub(r"(/bookingTemplate/)([^/]+)(?=/)", lambda m: m.group(1) + TEMPLATE, path)
    headers = dict(request.headers)
    if path.startswith("/module/"):
        headers["Authorization"] = f"Bearer {ids['access_token']}"
    body = request.body
    if body is not None:
        for name in ("client_id", "refresh_token", "organization_id", "bookingSlotId"):
            key = {"bookingSlotId": "slot_id"}.get(name, name)
            if name in body and key in ids:
                body = _set_value(body, name, ids[key])
    return base + path, headers, body


# --- what the walkthrough shows ------------------------------------------------------------
def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _classes(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["class"]} if isinstance(value.get("class"), str) else set()
        return own.union(*(_classes(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_classes(v) for v in value))
    return set()


def check_answer(request: Request, answer: requests.Response) -> None:
    """The answer has the status, keys, classes and literal figures the walkthrough shows."""
    shown = request.expected
    grant = request.form_value("grant_type")
    assert answer.status_code == (201 if request.path.endswith("/add") else 200), answer.text
    data = answer.json()
    if request.path.startswith("/module/") and '"messageList"' not in shown:
        data = data["content"]  # the example shows the bare content; every answer is enveloped
    missing = {k for k in re.findall(r'"(\w+)"\s*:', shown)} - _keys(data)
    assert not missing, f"{request.kind} {request.path}: keys the walkthrough shows: {missing}"
    assert set(re.findall(r'"class"\s*:\s*"(\w+)"', shown)) <= _classes(data)
    for name in ("token_type", "firstName", "lastName", "email"):
        for value in re.findall(rf'"{name}"\s*:\s*"([^"]+)"', shown):
            assert value in json.dumps(data), (name, value)
    for name, figure in re.findall(r'"(expires_in)"\s*:\s*(\d+)', shown):
        assert data[name] == int(figure)
    if grant == "client_credentials":
        assert data["refresh_token"] and "access_token" not in data
    if grant == "refresh_token":
        assert data["access_token"] and "refresh_token" not in data


def _expected_for(requests_: list[Request]) -> None:
    """A token request shows the answer of its grant's own section (the template section's
    raw example is a client-credentials request printed above a template list)."""
    by_grant = {
        r.form_value("grant_type"): r.expected for r in requests_ if r.kind == "curl" and r.body
    }
    for r in requests_:
        grant = r.form_value("grant_type")
        if r.path == "/oauth/token" and grant in by_grant:
            r.expected = by_grant[grant]


@pytest.mark.parametrize("dialect", ["clean", "php"])
def test_every_walkthrough_request_as_printed_gets_the_answer_it_shows(dialect):
    requests_ = read_walkthrough(_walkthrough())
    _expected_for(requests_)
    with sandbox_cli("--now", SANDBOX_NOW, "--dialect", dialect) as sb:
        ids = {"client_id": sb.client_id, "organization_id": sb.organization_id}
        session = requests.Session()
        session.trust_env = False
        sent = 0
        for request in requests_:
            if request.path.startswith("/app/"):
                continue  # the App API's header example; the sandbox emulates the Module API
            if request.path.endswith("/add"):  # each booking gets a slot still free
                ids["slot_id"] = _earliest_slot(session, sb.base_url, ids)
            url, headers, body = _substitute(request, sb.base_url, ids)
            answer = session.request(
                request.method, url, headers=headers, data=body.encode() if body else None,
                timeout=10,
            )  # fmt: skip
            check_answer(request, answer)
            sent += 1
            data = answer.json()
            if "refresh_token" in data:
                ids["refresh_token"] = data["refresh_token"]
            if "access_token" in data and request.form_value("organization_id"):
                ids["access_token"] = data["access_token"]
            if request.path.endswith("/earliest"):
                assert data["content"]["bookingSlotList"][0]["id"].startswith("4f")
        assert sent == 10


def _earliest_slot(session: requests.Session, base: str, ids: dict[str, str]) -> str:
    """The earliest free slot of the walkthrough's template (a request of this test's own)."""
    url = (
        f"{base}/module/v3/de/organization/{ids['organization_id']}/bookingTemplate/{TEMPLATE}"
        "/bookingSlot/earliest"
    )
    answer = session.get(
        url, headers={"Authorization": f"Bearer {ids['access_token']}"}, timeout=10
    )
    return str(answer.json()["content"]["bookingSlotList"][0]["id"])


def test_the_curl_form_under_a_json_content_type_gets_a_refresh_token(sandbox):
    """The Done-when line: ``curl -H "Content-Type: application/json" -d grant_type=… -d
    client_id=…`` (curl joins ``-d`` fields with ``&``)."""
    answer = requests.post(
        sandbox.auth_url,
        headers={"Content-Type": "application/json"},
        data=f"grant_type=client_credentials&client_id={sandbox.client_id}",
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer" and answer.json()["refresh_token"]


def test_a_json_body_that_is_malformed_is_still_refused_as_json(sandbox):
    answer = requests.post(
        sandbox.auth_url, headers={"Content-Type": "application/json"}, data="{grant_type=x",
        timeout=5,
    )  # fmt: skip
    assert answer.status_code == 400
    assert "not valid JSON" in answer.json()["error_description"]
