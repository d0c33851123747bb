"""Benchmark: raw response bodies → DataFrames with ``bt_explore.frames`` vs ``json_normalize``.

Builds synthetic payloads shaped like the API's answers (seeded, so every run measures the
same bytes):

- 100k slots over 30 templates: one ``RANGE_LIST`` envelope per template, slots every 15
  minutes from 08:00 to 18:00 with 1–3 resource combinations each, across the late-October DST
  change in Europe/Berlin;
- 10k templates with full nesting (price, address with coordinates, two booking steps with
  three resources each, e-mail/SMS templates, I18n lists) in one ``LIST`` envelope.

Measured side by side in one run, median of ``--repeat`` runs each (garbage collector on, as in
real use), for each payload:

- ``bt_explore``: bytes → ``slots_frame`` (per template, then concatenated) / ``templates_frame``;
- ``json_normalize``: bytes → ``json.loads`` → ``pd.json_normalize`` plus the same tz
  conversion and end computation for slots;
- the floor ``json.loads(bytes)`` alone, and, for information, ``msgspec.json.decode`` alone and
  the same frame from Python objects (``msgspec.json.decode`` then the flattener on dicts, which
  converts them into the same structs).

Targets: bt_explore ≥ 3× faster than json_normalize, and no slower than the json.loads floor
(≤ 1.0×). Also
reports the peak traced memory (tracemalloc) while building the 100k-slot frame. Exit status 0
when all targets are met and the frames agree with the baseline, 1 otherwise.

Example:
    $ python -m benchmarks.frames
    $ python -m benchmarks.frames --repeat 5 --slots 20000 --templates 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import random
import statistics
import string
import sys
import time
import tracemalloc
import zoneinfo
from collections.abc import Callable
from typing import Any

import msgspec
import pandas as pd

from benchmarks._docs import run_and_write as write_docs
from bt_explore.frames import slots_frame, templates_frame

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
ALPHABET = string.ascii_letters + string.digits
TEMPLATE_COUNT_FOR_SLOTS = 30
SPEEDUP_TARGET = 3.0
FLOOR_TARGET = 1.0


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(ALPHABET, k=30))


def _resource(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "class": "BOOKING_RESOURCE",
        "id": _id(rng, "br"),
        "customId": f"R{i}",
        "type": "EMPLOYEE",
        "name": f"Resource {i}",
        "nameI18nList": [],
        "gender": rng.choice(["FEMALE", "MALE", "NOT_SPECIFIED"]),
        "title": "",
        "firstName": f"First{i}",
        "lastName": f"Last{i}",
        "description": "",
        "descriptionI18nList": [],
        "image": "",
        "additionalData": None,
    }


def _template(rng: random.Random, i: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    price = round(rng.uniform(10, 200), 2)
    return {
        "class": "BOOKING_TEMPLATE",
        "id": _id(rng, "fc"),
        "customId": str(i),
        "name": f"Template {i}",
        "nameI18nList": [{"key": "de", "value": f"Vorlage {i}"}],
        "location": "ORGANIZATION_ADDRESS",
        "image": "",
        "duration": rng.choice([15, 30, 45, 60, 90]),
        "leadTime": 0,
        "followupTime": rng.choice([0, 5, 10]),
        "price": {"class": "PRICE", "priceGross": price, "taxRate": 19, "currency": "EUR"},
        "showPrice": True,
        "priceGross": price,
        "currency": "EUR",
        "taxRate": 19,
        "description": "Zeile1 Zeile2",
        "descriptionI18nList": {"de": "Zeile1 Zeile2"},
        "appointmentAddressRequired": False,
        "customerAddressRequired": False,
        "customerEmailRequired": True,
        "customerMobileRequired": rng.random() < 0.3,
        "additionalCustomerCountMax": 0,
        "bookingDayEarliest": 0,
        "bookingDayLatest": 14,
        "bookingLeadTime": 120,
        "address": {
            "class": "ADDRESS",
            "name": "Example Company",
            "extra": "",
            "street": f"Street {i}",
            "zip": f"{10000 + i % 90000}",
            "city": rng.choice(["Berlin", "Hamburg", "Köln", "München"]),
            "country": "DE",
            "geoCoordinates": {
                "class": "GEO_COORDINATES",
                "latitude": round(rng.uniform(47, 55), 6),
                "longitude": round(rng.uniform(6, 15), 6),
            },
        },
        "bookingStepList": [
            {
                "class": "BOOKING_STEP",
                "name": f"Step {s}",
                "nameI18nList": [],
                "description": "",
                "descriptionI18nList": [],
                "selectionQuantity": 1,
                "selectionDisplay": "LIST",
                "bookingResourceList": rng.sample(resources, 3),
                "additionalData": None,
            }
            for s in range(2)
        ],
        "emailTemplateList": [
            {
                "class": "EMAIL_TEMPLATE",
                "id": _id(rng, "46"),
                "customId": "",
                "name": "Aftersale E-Mail",
                "event": "APPOINTMENT_END",
            }
        ],
        "smsTemplateList": [
            {
                "class": "SMS_TEMPLATE",
                "id": _id(rng, "6G"),
                "customId": "",
                "name": "After customer-start",
                "event": "APPOINTMENT_CUSTOMER_START",
            }
        ],
        "extraFieldList": [],
        "additionalData": None,
    }


def _envelope(content: Any) -> bytes:
    return json.dumps({"messageList": [], "content": content}).encode()


def template_payload(count: int, seed: int = 1) -> bytes:
    """One LIST envelope holding ``count`` fully nested templates."""
    rng = random.Random(seed)
    resources = [_resource(rng, i) for i in range(60)]
    records = [_template(rng, i, resources) for i in range(count)]
    return _envelope(
        {"class": "LIST", "recordTotal": count, "recordLimit": 99999, "recordList": records}
    )


def slot_payloads(total: int, seed: int = 2) -> list[tuple[dict[str, Any], bytes]]:
    """``(template, RANGE_LIST envelope)`` per template, ``total`` slots over all of them."""
    rng = random.Random(seed)
    resources = [_id(rng, "br") for _ in range(40)]
    per_template = total // TEMPLATE_COUNT_FOR_SLOTS
    payloads = []
    for t in range(TEMPLATE_COUNT_FOR_SLOTS):
        template = {"id": _id(rng, "fc"), "duration": rng.choice([15, 30, 45, 60, 90])}
        count = per_template + (1 if t < total % TEMPLATE_COUNT_FOR_SLOTS else 0)
        slots: list[dict[str, Any]] = []
        day = dt.date(2026, 10, 20)
        while len(slots) < count:
            for quarter in range(40):  # 08:00 .. 17:45
                local = dt.datetime.combine(day, dt.time(8 + quarter // 4, 15 * (quarter % 4)))
                stamp = local.replace(tzinfo=BERLIN).isoformat()
                for _ in range(rng.randint(1, 3)):
                    slots.append(
                        {
                            "class": "BOOKING_SLOT",
                            "id": _id(rng, "4f"),
                            "timestamp": stamp,
                            "bookingResourceCombination": rng.sample(resources, rng.randint(1, 2)),
                        }
                    )
            day += dt.timedelta(days=1)
        content = {
            "class": "RANGE_LIST",
            "rangeStart": "2026-10-20T00:00:00+02:00",
            "rangeEnd": (day.isoformat() + "T00:00:00+01:00"),
            "timeZone": "Europe/Berlin",
            "list": slots[:count],
        }
        payloads.append((template, _envelope(content)))
    return payloads


# --- the contenders ------------------------------------------------------------------------


def slots_bt_explore(payloads: list[tuple[dict[str, Any], bytes]]) -> pd.DataFrame:
    frames = [slots_frame(body, template=template) for template, body in payloads]
    return pd.concat(frames, ignore_index=True)


def slots_dict_path(payloads: list[tuple[dict[str, Any], bytes]]) -> pd.DataFrame:
    frames = [
        slots_frame(msgspec.json.decode(body), template=template) for template, body in payloads
    ]
    return pd.concat(frames, ignore_index=True)


def slots_json_normalize(payloads: list[tuple[dict[str, Any], bytes]]) -> pd.DataFrame:
    frames = []
    for template, body in payloads:
        content = json.loads(body)["content"]
        frame = pd.json_normalize(content["list"])
        frame["template_id"] = template["id"]
        start = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
        frame["start"] = start.dt.tz_convert(content["timeZone"])
        frame["end"] = frame["start"] + pd.Timedelta(minutes=template["duration"])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def slots_json_floor(payloads: list[tuple[dict[str, Any], bytes]]) -> list[Any]:
    return [json.loads(body) for _, body in payloads]


def slots_msgspec_floor(payloads: list[tuple[dict[str, Any], bytes]]) -> list[Any]:
    return [msgspec.json.decode(body) for _, body in payloads]


def templates_json_normalize(body: bytes) -> pd.DataFrame:
    return pd.json_normalize(json.loads(body)["content"]["recordList"])


# --- measuring -----------------------------------------------------------------------------


def _median_ms(contenders: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median wall time per contender; runs are interleaved so drift hits all alike.

    Results are dropped right away: a large result kept alive would make the garbage
    collector slower for whoever runs next.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, run in contenders.items():
            gc.collect()
            started = time.perf_counter()
            result = run()
            times[name].append((time.perf_counter() - started) * 1000)
            del result
    return {name: statistics.median(values) for name, values in times.items()}


def _peak_mb(run: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / 1e6


def _row(case: str, what: str, ms: float, ratio: str = "", target: str = "", verdict: str = ""):
    print(f"{case:<10} {what:<46} {ms:>9.1f} {ratio:>8} {target:>8} {verdict:>6}".rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.frames", description=__doc__)
    parser.add_argument("--repeat", type=int, default=9, help="runs per contender (≥ 5)")
    parser.add_argument("--slots", type=int, default=100_000, help="total slots")
    parser.add_argument("--templates", type=int, default=10_000, help="templates")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="also write the output into the frames-figures block of docs/performance.md",
    )
    args = parser.parse_args(argv)
    if args.write_docs:
        return write_docs("frames-figures", main, argv)
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (the figures are medians of ≥ 5 runs)")

    payloads = slot_payloads(args.slots)
    template_body = template_payload(args.templates)
    slot_mb = sum(len(body) for _, body in payloads) / 1e6
    print(
        f"python {platform.python_version()}, pandas {pd.__version__}, "
        f"median of {args.repeat} runs each, garbage collector on"
    )
    print(
        f"slots: {args.slots} in {len(payloads)} RANGE_LIST bodies ({slot_mb:.1f} MB); "
        f"templates: {args.templates} in one LIST body ({len(template_body) / 1e6:.1f} MB)"
    )
    print()
    print(f"{'case':<10} {'bytes → …':<46} {'ms':>9} {'ratio':>8} {'target':>8}")
    print("-" * 92)
    failures = []

    def verdict(ok: bool, label: str) -> str:
        if not ok:
            failures.append(label)
        return "PASS" if ok else "FAIL"

    slot_times = _median_ms(
        {
            "ours": lambda: slots_bt_explore(payloads),
            "normalize": lambda: slots_json_normalize(payloads),
            "json": lambda: slots_json_floor(payloads),
            "msgspec": lambda: slots_msgspec_floor(payloads),
            "dicts": lambda: slots_dict_path(payloads),
        },
        args.repeat,
    )
    ours = slot_times["ours"]
    speedup = slot_times["normalize"] / ours
    floor = ours / slot_times["json"]
    _row("slots", "slots_frame (bt_explore)", ours)
    _row(
        "slots",
        "json.loads + json_normalize + tz conversion",
        slot_times["normalize"],
        f"{speedup:.1f}×",
        f"≥ {SPEEDUP_TARGET:.0f}×",
        verdict(speedup >= SPEEDUP_TARGET, "slots speedup"),
    )
    _row(
        "slots",
        "json.loads alone (floor)",
        slot_times["json"],
        f"{floor:.2f}×",
        f"≤ {FLOOR_TARGET}×",
        verdict(floor <= FLOOR_TARGET, "slots floor"),
    )
    _row("slots", "msgspec.json.decode alone (info)", slot_times["msgspec"])
    _row("slots", "msgspec.json.decode + slots_frame(dicts) (info)", slot_times["dicts"])

    template_times = _median_ms(
        {
            "ours": lambda: templates_frame(template_body),
            "normalize": lambda: templates_json_normalize(template_body),
            "json": lambda: json.loads(template_body),
            "msgspec": lambda: msgspec.json.decode(template_body),
            "dicts": lambda: templates_frame(msgspec.json.decode(template_body)),
        },
        args.repeat,
    )
    ours_t = template_times["ours"]
    speedup_t = template_times["normalize"] / ours_t
    floor_t = ours_t / template_times["json"]
    _row("templates", "templates_frame (bt_explore)", ours_t)
    _row(
        "templates",
        "json.loads + json_normalize",
        template_times["normalize"],
        f"{speedup_t:.1f}×",
        f"≥ {SPEEDUP_TARGET:.0f}×",
        verdict(speedup_t >= SPEEDUP_TARGET, "templates speedup"),
    )
    _row(
        "templates",
        "json.loads alone (floor)",
        template_times["json"],
        f"{floor_t:.2f}×",
        f"≤ {FLOOR_TARGET}×",
        verdict(floor_t <= FLOOR_TARGET, "templates floor"),
    )
    _row("templates", "msgspec.json.decode alone (info)", template_times["msgspec"])
    _row(
        "templates", "msgspec.json.decode + templates_frame(dicts) (info)", template_times["dicts"]
    )
    print("-" * 92)

    # The speed must not come from doing less: same rows, ids and instants as the baseline.
    frame, baseline = slots_bt_explore(payloads), slots_json_normalize(payloads)
    same_slots = (
        len(frame) == args.slots
        and frame["slot_id"].tolist() == baseline["id"].tolist()
        and (frame["start"].to_numpy() == baseline["start"].to_numpy()).all()
        and (frame["end"].to_numpy() == baseline["end"].to_numpy()).all()
        and frame.equals(slots_dict_path(payloads))
    )
    del frame, baseline
    tframe = templates_frame(template_body)
    same_templates = (
        len(tframe) == args.templates
        and tframe["template_id"].tolist() == templates_json_normalize(template_body)["id"].tolist()
        and tframe.equals(templates_frame(msgspec.json.decode(template_body)))
    )
    del tframe
    print(
        f"slot frame matches json_normalize and the frame from dicts: {verdict(same_slots, 'slots')}"
    )
    print(f"template frame matches the frame from dicts: {verdict(same_templates, 'templates')}")

    ours_peak = _peak_mb(lambda: slots_bt_explore(payloads))
    json_peak = _peak_mb(lambda: slots_json_floor(payloads))
    normalize_peak = _peak_mb(lambda: slots_json_normalize(payloads))
    print(
        f"peak traced memory for the {args.slots}-slot frame: bt_explore {ours_peak:.0f} MB, "
        f"json.loads alone {json_peak:.0f} MB, json_normalize {normalize_peak:.0f} MB "
        f"(bodies: {slot_mb:.0f} MB, not counted)"
    )
    print()
    if failures:
        print("FAIL: " + ", ".join(failures))
        return 1
    print("PASS: all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
