"""Plots of slot frames: right numbers on the axes, empty frames, no backend forced."""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # tests only: the library itself never picks a backend

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bt_explore import plots  # noqa: E402

TZ = "Europe/Berlin"


def make_slots(rows: list[tuple[str, str, str, list[str]]]) -> pd.DataFrame:
    """A scan-shaped frame from (template_id, template_name, local start, resource ids)."""
    start = pd.to_datetime([r[2] for r in rows]).tz_localize(TZ)
    frame = pd.DataFrame(
        {
            "slot_id": [f"4f{i:030d}" for i in range(len(rows))],
            "template_id": pd.Series([r[0] for r in rows], dtype="str"),
            "template_name": pd.Series([r[1] for r in rows], dtype="str"),
            "start": start,
            "end": start + pd.Timedelta(minutes=30),
            "resource_ids": [r[3] for r in rows],
        }
    )
    frame["resource_count"] = frame["resource_ids"].map(len).astype("Int64")
    return frame


@pytest.fixture
def slots() -> pd.DataFrame:
    return make_slots(
        [
            ("fcA", "Haircut", "2026-12-07 09:00", ["br1"]),  # Monday
            ("fcA", "Haircut", "2026-12-07 09:15", ["br1"]),
            ("fcA", "Haircut", "2026-12-09 14:30", ["br2"]),  # Wednesday
            ("fcB", "Consultation", "2026-12-07 10:00", ["br1", "br3"]),
            ("fcB", "Consultation", "2026-12-12 11:00", ["br2", "br3"]),  # Saturday
        ]
    )


def empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_heatmap_counts_slots_by_weekday_and_hour(slots: pd.DataFrame) -> None:
    fig = plots.availability_heatmap(slots)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (7, 14 - 9 + 1)  # Mon..Sun × hours 09..14
    assert grid.sum() == len(slots)
    assert grid[0, 0] == 2  # Monday 09:xx
    assert grid[0, 1] == 1  # Monday 10:xx
    assert grid[2, 5] == 1  # Wednesday 14:xx
    assert grid[5, 2] == 1  # Saturday 11:xx
    assert [t.get_text() for t in ax.get_yticklabels()] == list(plots.WEEKDAYS)
    assert "Europe/Berlin" in ax.get_xlabel()
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_heatmap_uses_local_hours_across_dst() -> None:
    # 09:00 local is 08:00 UTC in winter and 07:00 UTC in summer: both must land on hour 09.
    frame = make_slots(
        [("fcA", "A", "2026-01-05 09:00", ["br1"]), ("fcA", "A", "2026-07-06 09:00", ["br1"])]
    )
    grid = plots.availability_heatmap(frame).axes[0].images[0].get_array()
    assert grid.shape == (7, 1)
    assert grid[0, 0] == 2


def test_daily_availability_one_line_per_template_with_zero_days(slots: pd.DataFrame) -> None:
    fig = plots.daily_availability(slots)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"Haircut", "Consultation"}
    # Dec 7 .. Dec 12 inclusive, days without slots drawn as 0
    assert list(lines["Haircut"].get_ydata()) == [2, 0, 1, 0, 0, 0]
    assert list(lines["Consultation"].get_ydata()) == [1, 0, 0, 0, 0, 1]


def test_daily_availability_falls_back_to_template_ids() -> None:
    frame = make_slots([("fcA", "", "2026-12-07 09:00", ["br1"])]).drop(columns="template_name")
    ax = plots.daily_availability(frame).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["fcA"]


def test_resource_load_counts_and_names(slots: pd.DataFrame) -> None:
    resources = pd.DataFrame({"resource_id": ["br1", "br2"], "name": ["Anna", "Room 1"]})
    fig = plots.resource_load(slots, resources)
    ax = fig.axes[0]
    widths = {
        label.get_text(): patch.get_width()
        for label, patch in zip(ax.get_yticklabels(), ax.patches, strict=True)
    }
    assert widths == {"Anna": 3, "Room 1": 2, "br3": 2}
    assert ax.get_yticklabels()[-1].get_text() == "Anna"  # busiest on top


def test_resource_load_top_limits_bars(slots: pd.DataFrame) -> None:
    ax = plots.resource_load(slots, {"br1": "Anna"}, top=1).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Anna"]


@pytest.mark.parametrize(
    "plot", [plots.availability_heatmap, plots.daily_availability, plots.resource_load]
)
def test_empty_frame_gives_titled_empty_plot(plot, slots: pd.DataFrame) -> None:
    fig = plot(empty_like(slots))
    assert isinstance(fig, Figure)
    assert "no free slots" in fig.axes[0].get_title()
    assert png_bytes(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "plot", [plots.availability_heatmap, plots.daily_availability, plots.resource_load]
)
def test_empty_slots_frame_from_frames_module(plot) -> None:
    from bt_explore.frames import slots_frame

    fig = plot(slots_frame([]))
    assert "no free slots" in fig.axes[0].get_title()


@pytest.mark.parametrize(
    "plot", [plots.availability_heatmap, plots.daily_availability, plots.resource_load]
)
def test_draws_into_given_axes(plot, slots: pd.DataFrame) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot(slots, ax=ax) is fig
    assert ax.get_title()


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="resource_ids"):
        plots.resource_load(pd.DataFrame({"start": []}))
    with pytest.raises(TypeError, match="DataFrame"):
        plots.availability_heatmap([1, 2, 3])  # type: ignore[arg-type]


def test_resource_frame_without_name_column_is_rejected(slots: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'name'"):
        plots.resource_load(slots, pd.DataFrame({"resource_id": ["br1"]}))


def test_library_does_not_import_pyplot() -> None:
    code = (
        "import sys, pandas as pd; from bt_explore import plots; "
        "plots.availability_heatmap(pd.DataFrame({'start': pd.to_datetime([])})); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_heatmap_annotations_match_grid(slots: pd.DataFrame) -> None:
    ax = plots.availability_heatmap(slots).axes[0]
    annotated = sorted(int(t.get_text()) for t in ax.texts)
    grid = ax.images[0].get_array()
    assert annotated == sorted(int(v) for v in np.asarray(grid).ravel() if v)
