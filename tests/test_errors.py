"""The exception tree and the one function that maps answers to it (no network here; the
same classes raised by real sandbox answers are in test_client_errors.py)."""

from __future__ import annotations

import json
import pickle

import pytest
import requests

import bt_explore
from bt_explore.errors import (
    ApiError,
    AuthenticationError,
    BookingOutcomeUnknown,
    BookingtimeError,
    ConfigurationError,
    Message,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    SlotUnavailable,
    TransportError,
    UnexpectedResponse,
    ValidationError,
    decode_envelope,
    raise_for_answer,
    short_url,
)

URL = "https://api.bookingtime.com/module/v3/en/organization/f6abc/appointment/add"


def answer(status, body, *, method="POST", url=URL, headers=None, sent=None):
    response = requests.Response()
    response.status_code = status
    response.url = url
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers.update(headers or {})
    response.request = requests.Request(method, url, json=sent).prepare()
    return response


def envelope(*failures):
    return {
        "messageList": [
            {"class": "MESSAGE", "type": "failure", "parameter": p, "text": t} for p, t in failures
        ],
        "content": None,
    }


def test_tree():
    for cls in (ConfigurationError, TransportError, BookingOutcomeUnknown, ApiError):
        assert issubclass(cls, BookingtimeError)
    for cls in (
        ValidationError,
        AuthenticationError,
        PermissionDenied,
        NotFound,
        RateLimited,
        ServerError,
        UnexpectedResponse,
    ):
        assert issubclass(cls, ApiError)
    assert issubclass(SlotUnavailable, ValidationError)
    tree = bt_explore.errors.__doc__  # the tree is drawn in the module's docstring
    for name in bt_explore.errors.__all__:
        obj = getattr(bt_explore.errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert f"── {name}" in tree or f"{name}\n" in tree, name


def test_any_2xx_is_success():
    for status in (200, 201, 204):
        raise_for_answer(answer(status, b"", method="GET"))


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (405, ApiError),
    ],
)
def test_status_maps_to_class(status, cls):
    with pytest.raises(cls) as info:
        raise_for_answer(answer(status, envelope((None, "Something."))))
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.method == "POST"
    assert info.value.url == URL


def test_message_reads_like_the_issue_says():
    with pytest.raises(ValidationError) as info:
        raise_for_answer(answer(400, envelope(("customer.email", "This parameter is invalid."))))
    err = info.value
    assert str(err) == (
        "400 Bad Request for POST …/organization/f6abc/appointment/add: "
        "customer.email: This parameter is invalid."
    )
    assert err.fields == ("customer.email",)
    assert err.messages == (Message("failure", "customer.email", "This parameter is invalid."),)


def test_several_failures_are_all_named():
    with pytest.raises(ValidationError) as info:
        raise_for_answer(
            answer(400, envelope(("customer.firstName", "Required."), ("customer.email", "Bad.")))
        )
    assert info.value.fields == ("customer.firstName", "customer.email")
    assert "customer.firstName: Required.; customer.email: Bad." in str(info.value)


def test_slot_unavailable_when_the_failure_names_the_slot_that_was_sent():
    sent = {"bookingSlotId": "4f" + "a" * 30, "customer": {}}
    with pytest.raises(SlotUnavailable) as info:
        raise_for_answer(
            answer(400, envelope(("bookingSlotId", "No longer available.")), sent=sent)
        )
    assert info.value.fields == ("bookingSlotId",)


def test_a_missing_slot_id_is_a_plain_validation_error():
    with pytest.raises(ValidationError) as info:
        raise_for_answer(answer(400, envelope(("bookingSlotId", "Required.")), sent={"x": 1}))
    assert type(info.value) is ValidationError


def test_rate_limited_carries_retry_after():
    with pytest.raises(RateLimited) as info:
        raise_for_answer(answer(429, envelope((None, "Slow down.")), headers={"Retry-After": "3"}))
    assert info.value.retry_after == 3.0
    assert "retry after 3 s" in str(info.value)


@pytest.mark.parametrize(
    "header, seconds",
    [(" 5 ", 5.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), ("", None)],
)
def test_retry_after_is_read_as_urllib3_reads_it(header, seconds):
    limited = answer(429, envelope((None, "Slow down.")), headers={"Retry-After": header})
    with pytest.raises(RateLimited) as info:
        raise_for_answer(limited)
    assert info.value.retry_after == seconds


@pytest.mark.parametrize(
    "body", [b"<html><body>502 Bad Gateway</body></html>", b"", b"[1, 2]", b'{"messageList": 5}']
)
def test_unusable_bodies_are_unexpected_responses_never_json_errors(body):
    with pytest.raises(UnexpectedResponse) as info:
        raise_for_answer(answer(502, body, method="GET"))
    assert info.value.status_code == 502
    assert info.value.excerpt == body.decode()[:200]
    assert not isinstance(info.value, json.JSONDecodeError)


def test_malformed_2xx_body_is_unexpected_too():
    with pytest.raises(UnexpectedResponse, match="200 OK"):
        decode_envelope(answer(200, b"<html>hi</html>", method="GET"))


def test_excerpt_is_short_and_never_quotes_a_token():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    body = f"<html>Bearer {token} {'x' * 500}</html>".encode()
    with pytest.raises(UnexpectedResponse) as info:
        raise_for_answer(answer(500, body))
    assert token not in str(info.value)
    assert len(info.value.excerpt) <= 201


def test_bare_content_without_envelope_is_tolerated():
    content, messages = decode_envelope(answer(200, {"class": "APPOINTMENT", "id": "ed1"}))
    assert content == {"class": "APPOINTMENT", "id": "ed1"}
    assert messages == ()


def test_messages_survive_odd_shapes():
    assert Message.from_json("plain") == Message("", None, "plain")
    assert Message.from_json({"type": "failure", "parameter": ""}).parameter is None


def test_short_url_drops_host_locale_and_query():
    assert short_url(URL + "?x=1") == "…/organization/f6abc/appointment/add"
    assert short_url("http://127.0.0.1:5/oauth/token") == "…/oauth/token"


def test_errors_pickle_with_their_fields():
    err = RateLimited(429, "GET", URL, [Message("failure", None, "Slow.")], retry_after=2.0)
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.retry_after, copy.messages, str(copy)) == (
        RateLimited,
        2.0,
        err.messages,
        str(err),
    )


def test_booking_outcome_unknown_says_what_to_do():
    err = BookingOutcomeUnknown("bt123", "connection dropped")
    assert err.custom_id == "bt123"
    assert "appointment_by_custom_id('bt123')" in str(err)
