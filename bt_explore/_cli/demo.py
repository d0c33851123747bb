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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from bt_explore import models
from bt_explore.rules import required_parameters

if TYPE_CHECKING:
    import pandas as pd

HELP = "walk through authenticate → templates → earliest slot → book, on the sandbox by default"


def _given(value: msgspec.Struct) -> dict[str, Any]:
    """A request model as the API spells it, without the fields left empty."""
    return {k: v for k, v in msgspec.to_builtins(value).items() if v not in ("", None)}


#: The customer the demo books for (address fields only sent when the template asks for them),
#: as the API spells it (the models name the fields).
DEMO_CUSTOMER: dict[str, Any] = _given(
    models.Customer(
        gender="FEMALE",
        first_name="Erika",
        last_name="Mustermann",
        email="erika.mustermann@example.com",
        mobile="+49 151 23456789",
    )
)
DEMO_ADDRESS: dict[str, Any] = _given(
    models.Address(street="Musterstraße 1", zip="10115", city="Berlin", country="DE")
)


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


def show(frame: pd.DataFrame, columns: Mapping[str, str]) -> str:
    """The ``columns`` of a frame (column -> header) as a plain-text table.

    Example:
        >>> import pandas as pd
        >>> print(show(pd.DataFrame({"a": [1], "b": ["x"]}), {"a": "A", "b": "Bee"}))
         A Bee
         1   x
    """
    return (
        frame[list(columns)].rename(columns=dict(columns)).to_string(index=False, max_colwidth=44)
    )


_CUSTOMER = models.wire_names(models.Customer)
#: How the templates table names what a booking must give (rules' parameter -> label).
_LABELS = {
    f"customer.{_CUSTOMER.first_name}": "name",
    f"customer.{_CUSTOMER.last_name}": "name",
    f"customer.{_CUSTOMER.email}": "email",
    f"customer.{_CUSTOMER.mobile}": "mobile",
    f"customer.{_CUSTOMER.address}": "address",
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
    from bt_explore.frames import appointments_frame, slots_frame, templates_frame

    where = "the built-in sandbox" if sb is not None else client.settings.api_url
    _section(f"1. Authenticate ({where})")
    organization = client.organization()
    person = getattr(client.auth.refresh_source, "user", None)
    who = f"{person} via client" if person else "client"
    zone = organization.get(models.wire_names(models.Organization).time_zone)
    print(
        f"{who} {_masked(client.settings.client_id)} → organization {organization.get('name')} "
        f"({organization.get('id')}, {zone})"
    )

    _section("2. Booking templates")
    templates = client.templates()
    if not templates:
        print("this organization has no booking templates")
        return 1
    frame = templates_frame(templates)
    price = frame["price_gross"].map(lambda v: "" if v is None or v != v else f"{v:.2f}")
    frame = frame.assign(
        price=(price + " " + frame["currency"].fillna("")).str.strip(),
        required=[", ".join(_required(t)) for t in templates],
        window=[
            f"{a}–{'?' if b is None or b != b else b} days"
            for a, b in zip(
                frame["booking_day_earliest"].fillna(0), frame["booking_day_latest"], strict=True
            )
        ],
    )
    columns = {"name": "template", "duration": "minutes", "price": "price"}
    columns |= {"required": "customer must give", "window": "bookable", "template_id": "id"}
    print(show(frame, columns))

    template = templates[0]
    _section(f"3. Earliest free slot of {template.get('name')!r}")
    slots = slots_frame(client.earliest_slot(template["id"]))
    if slots.empty:
        print("no free slot in the template's booking window")
        return 0
    names = {r.get("id"): r.get("name") for r in client.resources()}
    slots = slots.assign(
        staff=slots["resource_ids"].map(lambda ids: ", ".join(names.get(r, r) for r in ids))
    )
    print(show(slots.head(5), {"start": "start", "staff": "with", "slot_id": "slot id"}))
    if not book:
        print("\n(--no-book: stopping before booking)")
        return 0

    slot = slots.iloc[0]
    required = required_parameters(template)
    customer = dict(DEMO_CUSTOMER)
    if f"customer.{_CUSTOMER.address}" in required:
        customer[_CUSTOMER.address] = dict(DEMO_ADDRESS)
    address = dict(DEMO_ADDRESS) if "address" in required else None
    name = f"{customer[_CUSTOMER.first_name]} {customer[_CUSTOMER.last_name]}"
    _section(f"4. Book {slot['start'].isoformat()} for {name}")
    appointment = client.book(
        slot["slot_id"], customer, template=template, address=address, notes="bt-explore demo"
    )
    shown = appointments_frame([client.appointment(appointment["id"])]).iloc[0]
    print(f"booked appointment {shown['appointment_id']} (customId {shown['custom_id']})")

    _section("5. The appointment, as the API shows it")
    details = {
        "name": shown["name"],
        "start": shown["start"].isoformat(),
        "end": shown["end"].isoformat(),
        "duration": f"{shown['duration']} min",
        "customer": f"{shown['customer_first_name']} {shown['customer_last_name']}",
        "email": shown["customer_email"],
        "custom id": shown["custom_id"],
        "canceled": "yes" if shown["canceled"] else "no",
        "id": shown["appointment_id"],
    }
    print("\n".join(f"{field:<11}{value}" for field, value in details.items()))
    if sb is not None:
        print(
            f"\nthe sandbox served {len(sb.token_requests)} token and {len(sb.api_requests)} "
            "API requests; run `bt-explore demo --live` to do the same on bookingtime"
        )
    else:
        print(f"\ncancel it with client.cancel({shown['appointment_id']!r}) if it was only a test")
    return 0
