"""``bt-explore demo``: bookingtime's walkthrough in the terminal, offline on the sandbox by default.

Authenticate, list the booking templates, find the earliest slot of the first one, book it for
a demo customer and show the appointment — each step one library call, printed as a table.

Example:
    $ bt-explore demo               # on the built-in sandbox, no credentials needed
    $ bt-explore demo --live        # on bookingtime with BOOKINGTIME_* settings (books for real)
    $ bt-explore demo --no-book     # stop before booking
    $ bt-explore demo --user        # sign in as a person first (a sandbox demo user)
    $ bt-explore demo --user --sandbox http://127.0.0.1:8765   # as the one `bt-explore login` keeps
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bt_explore.rules import required_parameters

HELP = "walk through authenticate → templates → earliest slot → book, on the sandbox by default"

#: The customer the demo books for (address fields only sent when the template asks for them).
DEMO_CUSTOMER: dict[str, Any] = {
    "gender": "FEMALE",
    "firstName": "Erika",
    "lastName": "Mustermann",
    "email": "erika.mustermann@example.com",
    "mobile": "+49 151 23456789",
}
DEMO_ADDRESS: dict[str, Any] = {
    "class": "ADDRESS",
    "street": "Musterstraße 1",
    "zip": "10115",
    "city": "Berlin",
    "country": "DE",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--live",
        action="store_true",
        help="use bookingtime with your credentials (BOOKINGTIME_* variables or .env); "
        "this books a real appointment unless --no-book is given",
    )
    p.add_argument("--no-book", action="store_true", help="stop after finding the earliest slot")
    p.add_argument(
        "--user",
        action="store_true",
        help="act for a person who signs in in the browser (Authorization Code Flow); on the "
        "sandbox, in the organization the application alone may not access",
    )
    from bt_explore._cli.login import add_sign_in_arguments, add_target_arguments

    add_target_arguments(p)
    add_sign_in_arguments(p)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Rows as a plain-text table with the given (key, header) columns.

    Example:
        >>> print(table([{"a": 1, "b": "x"}], [("a", "A"), ("b", "Bee")]))
        A  Bee
        -  ---
        1  x
    """
    cells = [[header for _, header in columns]]
    for row in rows:
        cells.append([_cell(row.get(key)) for key, _ in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any, limit: int = 44) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.2f}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_cell(v, limit) for v in value)
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: How the templates table names what a booking must give (rules' parameter -> label).
_LABELS = {
    "customer.firstName": "name",
    "customer.lastName": "name",
    "customer.email": "email",
    "customer.mobile": "mobile",
    "customer.address": "address",
    "address": "appt. address",
}


def _required(template: Mapping[str, Any]) -> list[str]:
    """What a customer must give to book ``template``, by :mod:`bt_explore.rules`.

    Example:
        >>> _required({"customerMobileRequired": True, "appointmentAddressRequired": True})
        ['name', 'mobile', 'appt. address']
    """
    labels = [_LABELS[parameter] for parameter in required_parameters(template)]
    return list(dict.fromkeys(labels))


def _price(template: Mapping[str, Any]) -> str:
    price = template.get("price")
    price = price if isinstance(price, dict) else {}
    gross = price.get("priceGross", template.get("priceGross"))
    currency = price.get("currency", template.get("currency")) or ""
    return "" if gross in (None, "") else f"{float(gross):.2f} {currency}".strip()


def _section(title: str) -> None:
    print(f"\n== {title} ==")


def _masked(client_id: str | None) -> str:
    """Enough of the client id to recognise it, not enough to reuse it from a screenshot."""
    if not client_id:
        return "(none)"
    return f"{client_id[:4]}…{client_id[-2:]}" if len(client_id) > 8 else "…"


def run(args: argparse.Namespace) -> int:
    from bt_explore._cli import missing_live_settings
    from bt_explore.connection import connect
    from bt_explore.sandbox import Sandbox

    if args.user:
        return _as_user(args)
    if args.sandbox:
        from bt_explore._cli.login import sandbox_settings

        with connect(mode="live", **sandbox_settings(args.sandbox)) as client:
            return _walkthrough(client, None, book=not args.no_book)
    if args.live:
        problem = missing_live_settings("demo")
        if problem is not None:
            return problem
        with connect(mode="live") as client:
            return _walkthrough(client, None, book=not args.no_book)
    with Sandbox() as sb, connect(sandbox=sb) as client:
        return _walkthrough(client, sb, book=not args.no_book)


def _as_user(args: argparse.Namespace) -> int:
    """The walkthrough for a person: the stored sign-in of `bt-explore login` when it is still
    valid (``--sandbox URL`` or bookingtime), else a sign-in in the browser now."""
    from bt_explore._cli.login import target_settings
    from bt_explore.connection import connect
    from bt_explore.sandbox import Sandbox

    sign_in = {"open_browser": not args.no_browser, "sign_in_timeout": args.timeout}
    if args.sandbox or args.live:
        with connect(
            mode="live", auth="user", remember=True, **target_settings(args), **sign_in
        ) as client:
            return _walkthrough(client, None, book=not args.no_book)
    with Sandbox() as sb:
        org = sb.other_organization_id or sb.organization_id
        with connect(sandbox=sb, organization_id=org, auth="user", **sign_in) as client:
            return _walkthrough(client, sb, book=not args.no_book)


def _walkthrough(client: Any, sb: Any, *, book: bool) -> int:
    where = "the built-in sandbox" if sb is not None else client.settings.api_url
    _section(f"1. Authenticate ({where})")
    organization = client.organization()
    person = getattr(client.auth.refresh_source, "user", None)
    who = f"{person} via client" if person else "client"
    print(
        f"{who} {_masked(client.settings.client_id)} → organization {organization.get('name')} "
        f"({organization.get('id')}, {organization.get('timeZone')})"
    )

    _section("2. Booking templates")
    templates = client.templates()
    if not templates:
        print("this organization has no booking templates")
        return 1
    rows = [
        {
            **t,
            "price_text": _price(t),
            "required": ", ".join(_required(t)),
            "window": f"{t.get('bookingDayEarliest', 0)}–{t.get('bookingDayLatest', '?')} days",
        }
        for t in templates
    ]
    print(
        table(
            rows,
            [
                ("name", "template"),
                ("duration", "minutes"),
                ("price_text", "price"),
                ("required", "customer must give"),
                ("window", "bookable"),
                ("id", "id"),
            ],
        )
    )

    template = templates[0]
    _section(f"3. Earliest free slot of {template.get('name')!r}")
    earliest = client.earliest_slot(template["id"])
    slots = earliest["bookingSlotList"]
    if not slots:
        print("no free slot in the template's booking window")
        return 0
    names = {r.get("id"): r.get("name") for r in client.resources()}
    print(
        table(
            [
                {
                    "timestamp": s.get("timestamp"),
                    "staff": [names.get(r, r) for r in s.get("bookingResourceCombination") or []],
                    "id": s.get("id"),
                }
                for s in slots[:5]
            ],
            [("timestamp", "start"), ("staff", "with"), ("id", "slot id")],
        )
    )
    if not book:
        print("\n(--no-book: stopping before booking)")
        return 0

    slot = slots[0]
    required = required_parameters(template)
    customer = dict(DEMO_CUSTOMER)
    if "customer.address" in required:
        customer["address"] = dict(DEMO_ADDRESS)
    address = dict(DEMO_ADDRESS) if "address" in required else None
    _section(f"4. Book {slot.get('timestamp')} for {customer['firstName']} {customer['lastName']}")
    appointment = client.book(
        slot["id"], customer, template=template, address=address, notes="bt-explore demo"
    )
    print(f"booked appointment {appointment.get('id')} (customId {appointment.get('customId')})")

    _section("5. The appointment, as the API shows it")
    shown = client.appointment(appointment["id"])
    person = shown.get("customer") or {}
    print(
        table(
            [
                {"field": "name", "value": shown.get("name")},
                {"field": "start", "value": shown.get("start")},
                {"field": "end", "value": shown.get("end")},
                {"field": "duration", "value": f"{shown.get('duration')} min"},
                {
                    "field": "customer",
                    "value": f"{person.get('firstName', '')} {person.get('lastName', '')}",
                },
                {"field": "email", "value": person.get("email")},
                {"field": "customId", "value": shown.get("customId")},
                {"field": "canceled", "value": shown.get("canceled")},
                {"field": "id", "value": shown.get("id")},
            ],
            [("field", "field"), ("value", "value")],
        )
    )
    if sb is not None:
        print(
            f"\nthe sandbox served {len(sb.token_requests)} token and {len(sb.api_requests)} "
            "API requests; run `bt-explore demo --live` to do the same on bookingtime"
        )
    else:
        print(f"\ncancel it with client.cancel({appointment['id']!r}) if it was only a test")
    return 0
