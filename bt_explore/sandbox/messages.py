"""The sandbox's message texts in English and German, and the envelope they travel in.

The Module API localizes ``messageList`` texts by the locale in the URL
(``/module/v3/{locale}/``): ``de`` and ``en`` here, ``en`` for anything else.

Example:
    >>> text("required", "de")
    'Dieser Parameter ist erforderlich.'
    >>> failure("customer.email", "email_invalid", "en", value="x").parameter
    'customer.email'
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from bt_explore.models import Envelope, Message
from bt_explore.rules import TEXTS as RULE_TEXTS

__all__ = ["LOCALES", "TEXTS", "envelope", "failure", "normalize_locale", "success", "text"]

#: The locales the sandbox has texts for; every other locale falls back to English.
LOCALES: tuple[str, ...] = ("en", "de")

#: message key -> {locale: text}; texts may hold ``str.format`` fields. The English texts of
#: the booking and request rules are :data:`bt_explore.rules.TEXTS` (filled in below).
TEXTS: dict[str, dict[str, str]] = {
    "required": {
        "de": "Dieser Parameter ist erforderlich.",
    },
    "invalid": {
        "de": "Dieser Parameter ist ungültig.",
    },
    "not_a_string": {
        "de": "Dieser Parameter muss eine Zeichenkette sein.",
    },
    "not_an_object": {
        "de": "Dieser Parameter muss ein JSON-Objekt sein.",
    },
    "not_a_boolean": {
        "de": "Dieser Parameter muss true oder false sein.",
    },
    "bad_id": {
        "de": "'{value}' ist keine gültige {kind}-ID: erwartet werden 32 Zeichen, '{prefix}' und "
        "30 aus [0-9a-zA-Z].",
    },
    "unknown_entity": {
        "en": "No {kind} with id '{value}' exists in this organization.",
        "de": "In dieser Organisation gibt es kein {kind} mit der ID '{value}'.",
    },
    "unknown_custom_id": {
        "en": "No {kind} with customId '{value}' exists in this organization.",
        "de": "In dieser Organisation gibt es kein {kind} mit der customId '{value}'.",
    },
    "unknown_organization": {
        "en": "No organization with id '{value}' exists.",
        "de": "Es gibt keine Organisation mit der ID '{value}'.",
    },
    "unknown_static_list": {
        "en": "There is no static list '{value}'; known lists: {known}.",
        "de": "Es gibt keine statische Liste '{value}'; bekannt sind: {known}.",
    },
    "bad_error_code": {
        "en": "'{value}' is not an HTTP error status code (400-599).",
        "de": "'{value}' ist kein HTTP-Fehlerstatuscode (400-599).",
    },
    "route_not_found": {
        "en": "The route {method} {path} does not exist.",
        "de": "Die Route {method} {path} existiert nicht.",
    },
    "method_not_allowed": {
        "en": "The method {method} is not allowed for {path}; allowed: {allowed}.",
        "de": "Die Methode {method} ist für {path} nicht erlaubt; erlaubt: {allowed}.",
    },
    "token_missing": {
        "en": "Authentication required: send 'Authorization: Bearer <access token>'.",
        "de": "Authentifizierung erforderlich: 'Authorization: Bearer <Access-Token>' senden.",
    },
    "token_invalid": {
        "en": "The access token is invalid.",
        "de": "Das Access-Token ist ungültig.",
    },
    "token_expired": {
        "en": "The access token has expired.",
        "de": "Das Access-Token ist abgelaufen.",
    },
    "token_revoked": {
        "en": "The access token has been revoked.",
        "de": "Das Access-Token wurde widerrufen.",
    },
    "token_is_refresh": {
        "en": "A refresh token cannot be used for API calls; exchange it for an access token.",
        "de": "Ein Refresh-Token gilt nicht für API-Aufrufe; tauschen Sie es gegen ein Access-Token.",
    },
    "forbidden_module": {
        "en": "The access token was not issued to module '{value}'.",
        "de": "Das Access-Token wurde nicht für das Modul '{value}' ausgestellt.",
    },
    "module_not_configured": {
        "en": "Module '{value}' has no configuration in this organization.",
        "de": "Das Modul '{value}' hat in dieser Organisation keine Konfiguration.",
    },
    "forbidden_organization": {
        "en": "The access token is not valid for organization '{value}'.",
        "de": "Das Access-Token gilt nicht für die Organisation '{value}'.",
    },
    "content_type_json": {
        "en": "The request body must be JSON with 'Content-Type: application/json' (got {got}).",
        "de": "Der Request-Body muss JSON mit 'Content-Type: application/json' sein "
        "(erhalten: {got}).",
    },
    "json_malformed": {
        "en": "The request body is not valid JSON: {detail}.",
        "de": "Der Request-Body ist kein gültiges JSON: {detail}.",
    },
    "body_too_large": {
        "en": "The request body is too large (at most {max} bytes).",
        "de": "Der Request-Body ist zu groß (höchstens {max} Bytes).",
    },
    "body_not_object": {
        "en": "The request body must be a JSON object.",
        "de": "Der Request-Body muss ein JSON-Objekt sein.",
    },
    "number_out_of_range": {
        "en": "This parameter is out of range: numbers must be finite and integers fit in 64 bits "
        "(-2^63 to 2^64-1).",
        "de": "Dieser Parameter liegt außerhalb des Wertebereichs: Zahlen müssen endlich sein und "
        "Ganzzahlen in 64 Bit passen (-2^63 bis 2^64-1).",
    },
    "nesting_too_deep": {
        "en": "This parameter is nested too deeply (at most {max} levels of objects and arrays "
        "in the body).",
        "de": "Dieser Parameter ist zu tief verschachtelt (höchstens {max} Ebenen aus Objekten und "
        "Arrays im Body).",
    },
    "text_not_unicode": {
        "en": "This parameter is not valid Unicode text (a lone surrogate such as \\ud800).",
        "de": "Dieser Parameter ist kein gültiger Unicode-Text (ein einzelnes Surrogat wie "
        "\\ud800).",
    },
    "email_invalid": {
        "de": "Dieser Parameter ist ungültig: '{value}' ist keine E-Mail-Adresse.",
    },
    "mobile_invalid": {
        "de": "Dieser Parameter ist ungültig: '{value}' ist keine Mobilfunknummer.",
    },
    "zip_invalid": {
        "de": "Dieser Parameter ist ungültig: '{value}' ist keine Postleitzahl.",
    },
    "choice_invalid": {
        "de": "Dieser Parameter ist ungültig: erwartet wird einer von {choices}.",
    },
    "too_long": {
        "de": "Dieser Parameter ist zu lang (höchstens {max} Zeichen).",
    },
    "date_invalid": {
        "de": "Dieser Parameter ist ungültig: erwartet wird ein Datum JJJJ-MM-TT.",
    },
    "additional_data_invalid": {
        "de": "Dieser Parameter ist ungültig: erwartet wird ein Objekt von Schlüsseln auf Listen "
        "von Zeichenketten.",
    },
    "custom_id_taken": {
        "en": "An appointment with customId '{value}' already exists.",
        "de": "Ein Termin mit der customId '{value}' existiert bereits.",
    },
    "slot_unknown": {
        "en": "The booking slot '{value}' does not exist.",
        "de": "Der Buchungsslot '{value}' existiert nicht.",
    },
    "slot_unavailable": {
        "en": "The booking slot is no longer available.",
        "de": "Der Buchungsslot ist nicht mehr verfügbar.",
    },
    "slot_other_template": {
        "en": "The booking slot belongs to another booking template than the appointment.",
        "de": "Der Buchungsslot gehört zu einer anderen Buchungsvorlage als der Termin.",
    },
    "appointment_canceled": {
        "en": "The appointment is canceled and cannot be moved.",
        "de": "Der Termin ist storniert und kann nicht verschoben werden.",
    },
    "year_invalid": {
        "en": "This parameter is invalid: '{value}' is not a year between 1970 and 9998.",
        "de": "Dieser Parameter ist ungültig: '{value}' ist kein Jahr zwischen 1970 und 9998.",
    },
    "month_invalid": {
        "en": "This parameter is invalid: '{value}' is not a month (1-12).",
        "de": "Dieser Parameter ist ungültig: '{value}' ist kein Monat (1-12).",
    },
    "day_invalid": {
        "en": "This parameter is invalid: '{value}' is not a day of {year}-{month:02d}.",
        "de": "Dieser Parameter ist ungültig: '{value}' ist kein Tag im {month:02d}.{year}.",
    },
    "week_invalid": {
        "en": "This parameter is invalid: '{value}' is not an ISO week of {year} (1-{weeks}).",
        "de": "Dieser Parameter ist ungültig: '{value}' ist keine ISO-Woche von {year} (1-{weeks}).",
    },
    "range_past": {
        "en": "The requested range ends before today ({today}).",
        "de": "Der angefragte Zeitraum endet vor heute ({today}).",
    },
    "base64_invalid": {
        "en": "This parameter is invalid: expected the file's bytes in base64 (RFC 4648).",
        "de": "Dieser Parameter ist ungültig: erwartet werden die Bytes der Datei in Base64 "
        "(RFC 4648).",
    },
    "file_too_large": {
        "en": "The decoded file is too large (at most {max} bytes).",
        "de": "Die dekodierte Datei ist zu groß (höchstens {max} Bytes).",
    },
    "file_name_invalid": {
        "en": "This parameter is invalid: a file name, not '.' or '..', without '/', '\\', "
        "control or text-direction characters.",
        "de": "Dieser Parameter ist ungültig: ein Dateiname, nicht '.' oder '..', ohne '/', "
        "'\\', Steuer- oder Schreibrichtungszeichen.",
    },
    "file_custom_id_taken": {
        "en": "A file with customId '{value}' already exists.",
        "de": "Eine Datei mit der customId '{value}' existiert bereits.",
    },
    "file_added": {
        "en": "The file was added.",
        "de": "Die Datei wurde hinzugefügt.",
    },
    "appointment_added": {
        "en": "The appointment was booked.",
        "de": "Der Termin wurde gebucht.",
    },
    "appointment_moved": {
        "en": "The appointment was moved.",
        "de": "Der Termin wurde verschoben.",
    },
    "appointment_canceled_ok": {
        "en": "The appointment was canceled.",
        "de": "Der Termin wurde storniert.",
    },
    "appointment_already_canceled": {
        "en": "The appointment was already canceled.",
        "de": "Der Termin war bereits storniert.",
    },
    "rate_limited": {
        "en": "Too many requests: retry after {seconds} second(s).",
        "de": "Zu viele Anfragen: erneut versuchen nach {seconds} Sekunde(n).",
    },
    "server_fault": {
        "en": "{phrase} (injected by the sandbox's fault settings).",
        "de": "{phrase} (von den Fehlereinstellungen der Sandbox erzeugt).",
    },
    "host_not_loopback": {
        "en": "The sandbox answers only requests whose Host header names a loopback address "
        "(localhost, 127.0.0.1, [::1]).",
        "de": "Die Sandbox beantwortet nur Anfragen, deren Host-Header eine Loopback-Adresse nennt "
        "(localhost, 127.0.0.1, [::1]).",
    },
    "internal_error": {
        "en": "Internal server error.",
        "de": "Interner Serverfehler.",
    },
    "status_text": {
        "en": "{code} {phrase}.",
        "de": "{code} {phrase}.",
    },
    # --- custom entities ---
    "custom_entity_type_invalid": {
        "en": "'{value}' is not a custom entity type: expected a word matching {pattern}.",
        "de": "'{value}' ist kein Typ eigener Entitäten: erwartet wird ein Wort passend zu "
        "{pattern}.",
    },
    "custom_entity_custom_id_taken": {
        "en": "A custom entity of type {type} with customId '{value}' already exists.",
        "de": "Eine eigene Entität vom Typ {type} mit der customId '{value}' existiert bereits.",
    },
    "custom_id_unservable": {
        "en": "This parameter is invalid: '{value}' could not be identified by URL (not blank, "
        "no leading '/', no '.' or '..' segment).",
        "de": "Dieser Parameter ist ungültig: '{value}' wäre per URL nicht auffindbar (nicht "
        "leer, kein führendes '/', kein Abschnitt '.' oder '..').",
    },
    "custom_entity_added": {
        "en": "The custom entity was added.",
        "de": "Die eigene Entität wurde angelegt.",
    },
}


for _key, _english in RULE_TEXTS.items():
    TEXTS[_key]["en"] = _english


def normalize_locale(locale: str | None) -> str:
    """The message locale for a URL locale: ``de``/``de_DE``/``de-AT`` → ``de``, else ``en``.

    Example:
        >>> normalize_locale("de_DE"), normalize_locale("fr")
        ('de', 'en')
    """
    base = (locale or "").replace("-", "_").split("_", 1)[0].lower()
    return base if base in LOCALES else "en"


def text(key: str, locale: str = "en", /, **fields: Any) -> str:
    """The text of message ``key`` in ``locale`` (English fallback), formatted with ``fields``.

    Example:
        >>> text("rate_limited", "en", seconds=2)
        'Too many requests: retry after 2 second(s).'
    """
    texts = TEXTS[key]
    return texts.get(normalize_locale(locale), texts["en"]).format(**fields)


def failure(parameter: str | None, key: str, locale: str = "en", /, **fields: Any) -> Message:
    """One ``failure`` MESSAGE naming ``parameter``.

    Example:
        >>> failure("customer.lastName", "required").text
        'This parameter is required.'
    """
    return Message(type="failure", parameter=parameter, text=text(key, locale, **fields))


def success(key: str, locale: str = "en", /, **fields: Any) -> Message:
    """One ``success`` MESSAGE (parameter ``None``).

    Example:
        >>> success("appointment_added", "de").text
        'Der Termin wurde gebucht.'
    """
    return Message(type="success", text=text(key, locale, **fields))


def envelope(content: Any = None, messages: list[Message] | None = None) -> Envelope[Any]:
    """The Module API envelope ``{"messageList": [...], "content": ...}``.

    Example:
        >>> import msgspec
        >>> msgspec.json.encode(envelope(None, [success("file_added")]))
        b'{"messageList":[{"class":"MESSAGE","type":"success","parameter":null,"text":"The file was added."}],"content":null}'
    """
    return Envelope(message_list=list(messages or []), content=content)


def status_phrase(code: int) -> str:
    """The HTTP reason phrase of ``code`` (``"Error"`` for unknown codes).

    Example:
        >>> status_phrase(429)
        'Too Many Requests'
    """
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"
