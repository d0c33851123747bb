"""Every error class raised by a real answer (sandbox over HTTP, or a local "proxy" page)."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading

import pytest

from bt_explore import (
    ApiError,
    AuthenticationError,
    Client,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Settings,
    SlotUnavailable,
    TransportError,
    UnexpectedResponse,
    ValidationError,
)
from bt_explore.client import default_retry

NOW = "2026-12-01T09:00:00+01:00"
ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}


def make_client(sb, **overrides):
    values = dict(
        client_id=sb.client_id,
        organization_id=sb.organization_id,
        auth_url=sb.auth_url,
        api_url=sb.api_url,
        env_file=None,
    )
    values.update(overrides)
    # no backoff sleeps: the retry policy is otherwise the default one
    return Client(Settings(**values), clock=sb.now, retry=default_retry(backoff_factor=0))


def test_400_validation_names_the_fields(client, sb):
    slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
    with pytest.raises(ValidationError) as info:
        # call() sends what it is given: the API itself must refuse it
        client.call(
            "appointment_add",
            json={"bookingSlotId": slot["id"], "customer": {"firstName": "Ada", "email": "nope"}},
        )
    err = info.value
    assert type(err) is ValidationError
    assert err.status_code == 400 and err.method == "POST"
    assert "customer.lastName" in err.fields and "customer.email" in err.fields
    assert str(err).startswith("400 Bad Request for POST …/organization/")
    assert "customer.email: " in str(err)


def test_slot_unavailable(client):
    slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
    client.book(slot["id"], ADA)
    with pytest.raises(SlotUnavailable) as info:
        client.book(slot["id"], ADA)
    assert info.value.fields == ("bookingSlotId",)
    assert isinstance(info.value, ValidationError)


def test_401_bad_credentials(sb):
    with pytest.raises(AuthenticationError) as info:
        make_client(sb, client_id="23" + "z" * 30).organization()
    assert info.value.status_code == 401


def test_401_from_the_api_after_the_one_resend(client, sb):
    client.organization()
    sb.set_faults(script=[401, 401])
    with pytest.raises(AuthenticationError):
        client.organization()


def test_403_other_organization(client, sb):
    with pytest.raises(PermissionDenied) as info:
        client.templates(organization_id=sb.other_organization_id)
    assert info.value.status_code == 403


def test_404_unknown_entity(client):
    with pytest.raises(NotFound) as info:
        client.appointment_by_custom_id("no-such-booking")
    assert info.value.status_code == 404
    assert info.value.messages  # the API's own words are kept
    assert "no-such-booking" in str(info.value)
    with pytest.raises(NotFound):
        client.template("fc" + "0" * 30)


def test_429_on_a_post_carries_retry_after(client, sb):
    slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
    before = len(sb.appointments())
    sb.set_faults(script=[429], retry_after=7)
    with pytest.raises(RateLimited) as info:
        client.book(slot["id"], ADA)
    assert info.value.retry_after == 7
    assert "retry after 7 s" in str(info.value)
    assert [r.status for r in sb.api_requests][-1] == 429  # a POST is not retried
    assert len(sb.appointments()) == before


def test_429_on_a_get_after_the_retries(client, sb):
    client.organization()
    sb.set_faults(script=[429] * 4, retry_after=0)
    with pytest.raises(RateLimited) as info:
        client.organization()
    assert info.value.retry_after == 0


@pytest.mark.parametrize("code", [500, 503])
def test_5xx_server_error(client, code):
    with pytest.raises(ServerError) as info:
        client.call("static_error", code=code)
    assert info.value.status_code == code


def test_other_statuses_are_api_errors(client):
    with pytest.raises(ApiError) as info:
        client.call("static_error", code=409)
    assert info.value.status_code == 409


@contextlib.contextmanager
def _canned_api(answer):
    """A local server in front of the API that answers every GET with ``answer(path)``, a
    ``(status, content type, body)``; yields its API URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            status, content_type, body = answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/module/v3/"
    finally:
        server.shutdown()
        server.server_close()


def _proxy_page(path):
    """A misbehaving proxy in front of the API: an HTML page instead of an envelope."""
    body = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    return (502 if "organization" in path else 200), "text/html", body


@pytest.fixture
def proxy_page():
    with _canned_api(_proxy_page) as url:
        yield url


def test_unexpected_response_for_an_html_page(sb, proxy_page):
    with make_client(sb, api_url=proxy_page) as client:
        with pytest.raises(UnexpectedResponse) as info:
            client.organization()  # 502 HTML: retried, then reported with an excerpt
        assert info.value.status_code == 502
        assert "502 Bad Gateway" in info.value.excerpt
        with pytest.raises(UnexpectedResponse) as info:
            client.countries()  # a 200 that is not JSON
        assert info.value.status_code == 200


def test_an_answer_larger_than_the_read_chunk_arrives_whole(sb):
    records = [{"class": "COUNTRY", "code": f"C{i:06d}", "name": "x" * 60} for i in range(36_000)]
    envelope = {"messageList": [], "content": {"class": "LIST", "recordList": records}}
    body = json.dumps(envelope).encode()
    assert len(body) > 3 * 2**20
    with _canned_api(lambda path: (200, "application/json", body)) as api:
        with make_client(sb, api_url=api) as client:
            assert client.countries() == records


def test_transport_error_for_dropped_connections(client, sb):
    client.organization()
    sb.set_faults(script=["drop"] * 4)
    with pytest.raises(TransportError) as info:
        client.organization()
    assert "dropped" in str(info.value)
    assert len(sb.api_requests) == 1 + 4


def test_transport_error_for_a_refused_connection(sb):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(sb, api_url=f"http://127.0.0.1:{port}/module/v3/")
    with pytest.raises(TransportError) as info:
        client.countries()
    assert info.value.sent is False
    assert "refused" in str(info.value)


def test_errors_carry_no_secrets(sb):
    client = make_client(sb, client_secret="hunter2-secret")
    try:
        client.organization()
    except AuthenticationError as exc:
        assert "hunter2" not in str(exc) and "hunter2" not in repr(exc)
    assert "hunter2" not in repr(client)


# -- issue 11: malformed answers and bad arguments give typed errors, never KeyError & co. -----

_BAD_SLOT_ANSWERS = {
    "a slot without timestamp": [{"class": "BOOKING_SLOT", "id": "4f" + "a" * 30}],
    "a null timestamp": [{"class": "BOOKING_SLOT", "id": "4f" + "b" * 30, "timestamp": None}],
    "a slot that is a string": ["4f" + "c" * 30],
    "a garbled timestamp": [{"id": "4f" + "d" * 30, "timestamp": "tomorrow"}],
}


@pytest.mark.parametrize("bad_zone", ["Europe/Berlin", "Not/AZone", None, 42])
def test_malformed_slot_answers_are_skipped_not_crashed_on(sb, bad_zone):
    bad_slots = [slot for slots in _BAD_SLOT_ANSWERS.values() for slot in slots]
    good = {
        "class": "BOOKING_SLOT",
        "id": "4f" + "e" * 30,
        "timestamp": "2026-12-02T10:00:00+01:00",
    }

    def answer(path):
        if path.endswith("/show"):  # organization or template
            content = {"id": "fc" + "a" * 30, "timeZone": bad_zone, "duration": 30}
        else:
            content = {"class": "RANGE_LIST", "timeZone": bad_zone, "list": [*bad_slots, good]}
        return 200, "application/json", json.dumps({"messageList": [], "content": content}).encode()

    with _canned_api(answer) as api, make_client(sb, api_url=api) as client:
        template_id = "fc" + "a" * 30
        result = client.slots(template_id, "2026-12-02", "2026-12-03")
        assert [s["id"] for s in result["list"]] == [good["id"]]
        frame = client.slots_frame(template_id, "2026-12-02", "2026-12-03")
        assert list(frame["slot_id"]) == [good["id"]]
        day = client.slots(template_id, "2026-12-02T00:00", "2026-12-03T00:00")
        assert [s["id"] for s in day["list"]] == [good["id"]]


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda c: c.book({"id": "4f" + "a" * 30}, ADA), TypeError, "slot['id']"),
        (lambda c: c.book(None, ADA), TypeError, "slot_id"),
        (lambda c: c.book("4f" + "a" * 30, "Ada Lovelace"), TypeError, "customer"),
        (lambda c: c.book("4f" + "a" * 30, ADA, custom_id=7), TypeError, "custom_id"),
        (lambda c: c.book("4f" + "a" * 30, ADA, custom_id=" "), ValueError, "custom_id"),
        (lambda c: c.book("4f" + "a" * 30, ADA, notes=["x"]), TypeError, "notes"),
        (lambda c: c.book("4f" + "a" * 30, ADA, address="Main St 1"), TypeError, "address"),
        (lambda c: c.book("4f" + "a" * 30, ADA, template=3), TypeError, "template"),
        (
            lambda c: c.book("4f" + "a" * 30, ADA, additional_data={"k": "hello"}),
            TypeError,
            "additional_data['k'] must be a list of strings, got str: pass ['hello']",
        ),
        (
            lambda c: c.book("4f" + "a" * 30, ADA, additional_data=["k"]),
            TypeError,
            "additional_data",
        ),
        (lambda c: c.template(None), TypeError, "template_id must be a string"),
        (lambda c: c.template(""), ValueError, "template_id must not be empty"),
        (lambda c: c.appointment({"id": "x"}), TypeError, "appointment_id"),
        (lambda c: c.cancel(".."), ValueError, "appointment_id cannot be '..'"),
        (lambda c: c.slots_day("fc" + "a" * 30, "soon"), ValueError, "day"),
        (lambda c: c.slots("fc" + "a" * 30, "2026-12-03", "2026-12-02"), ValueError, "end"),
    ],
)
def test_bad_arguments_name_themselves_and_send_nothing(client, sb, call, error, words):
    sb.clear_requests()
    with pytest.raises(error) as info:
        call(client)
    assert words in str(info.value)
    assert sb.api_requests == []


@pytest.mark.parametrize("settings", ["23abc", {"client_id": "23abc"}, 42])
def test_client_wants_settings(settings):
    with pytest.raises(TypeError, match="settings must be a bt_explore.Settings"):
        Client(settings)


def test_additional_data_is_sent_as_lists(client, sb):
    slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
    appointment = client.book(slot["id"], ADA, additional_data={"source": ("web", "ad")})
    stored = [a for a in sb.appointments() if a["id"] == appointment["id"]]
    assert len(stored) == 1


@pytest.mark.parametrize("status", [400, 401, 500])
@pytest.mark.parametrize("shape", ["json", "text"])
def test_a_token_server_that_echoes_the_request_does_not_leak_the_secret(sb, status, shape):
    secret = "s3cr3t-Value-42"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            form = self.rfile.read(int(self.headers["Content-Length"])).decode()
            if shape == "json":
                body = json.dumps(
                    {"error": "invalid_client", "error_description": f"got {form}"}
                ).encode()
            else:
                body = f"<html>bad request {form} secret={secret}</html>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if shape == "json" else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        auth_url = f"http://127.0.0.1:{server.server_address[1]}/oauth/token"
        with make_client(sb, auth_url=auth_url, client_secret=secret) as client:
            with pytest.raises(ApiError) as info:
                client.organization()
    finally:
        server.shutdown()
        server.server_close()
    text = f"{info.value} {info.value!r} {info.value.messages} {getattr(info.value, 'excerpt', '')}"
    assert secret not in text
    assert "[redacted]" in text


def _slot(letter):
    return {
        "class": "BOOKING_SLOT",
        "id": "4f" + letter * 30,
        "timestamp": "2026-12-02T10:00:00+01:00",
        "bookingResourceCombination": [],
    }


_RANGE = {"rangeStart": "2026-12-01T11:00:00+01:00", "rangeEnd": "2026-12-16T00:00:00+01:00"}

_EARLIEST_ANSWERS = {
    # the walkthrough's shape, which the sandbox serves
    "bookingSlotList": ({**_RANGE, "timeZone": "Europe/Berlin", "bookingSlotList": [_slot("a")]}, "a"),
    # a RANGE_LIST-like answer: live bookingtime might send it
    "list": ({**_RANGE, "class": "RANGE_LIST", "timeZone": "Europe/Berlin", "list": [_slot("b")]}, "b"),
    "both, bookingSlotList wins": ({**_RANGE, "bookingSlotList": [_slot("c")], "list": [_slot("d")]}, "c"),
    "a bare slot": (_slot("e"), "e"),
    "no slot list at all": ({**_RANGE, "timeZone": "Europe/Berlin"}, None),
}  # fmt: skip


@pytest.mark.parametrize("shape", list(_EARLIEST_ANSWERS))
def test_earliest_slot_reads_every_shape_into_booking_slot_list(sb, shape):
    content, letter = _EARLIEST_ANSWERS[shape]

    def answer(path):
        return 200, "application/json", json.dumps({"messageList": [], "content": content}).encode()

    with _canned_api(answer) as api, make_client(sb, api_url=api) as client:
        earliest = client.earliest_slot("fc" + "a" * 30)
        assert "list" not in earliest  # one name for users: the walkthrough's
        ids = [s["id"] for s in earliest["bookingSlotList"]]
        assert ids == ([] if letter is None else ["4f" + letter * 30])
