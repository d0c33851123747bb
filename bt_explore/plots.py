"""Matplotlib plots of slot frames: when is there availability, per template, and who is busy.

Every function takes a slots frame (from :func:`bt_explore.scan_slots`, ``client.slots_frame`` or
:func:`bt_explore.slots_frame`) and returns a :class:`matplotlib.figure.Figure`. Pass ``ax=`` to
draw into an existing Axes instead (the Axes' figure is returned). An empty frame gives an empty
plot whose title says so, never an exception.

Figures are built with :class:`~matplotlib.figure.Figure`, not ``pyplot``: nothing is shown or
kept open behind your back and no backend is chosen. In Jupyter, run ``%matplotlib inline`` once
and a returned figure displays itself; elsewhere use ``fig.savefig("heatmap.png")``.

Example:
    >>> from bt_explore import plots
    >>> fig = plots.availability_heatmap(slots)         # doctest: +SKIP
    >>> fig.savefig("heatmap.png")                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from bt_explore.extras import missing_extra

try:
    import matplotlib
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("matplotlib", "bt_explore.plots") from exc

__all__ = ["availability_heatmap", "daily_availability", "resource_load"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _require(slots: pd.DataFrame, columns: Iterable[str], func: str) -> None:
    if not isinstance(slots, pd.DataFrame):
        raise TypeError(f"{func}: slots must be a pandas DataFrame, got {type(slots).__name__}")
    missing = [c for c in columns if c not in slots.columns]
    if missing:
        raise ValueError(
            f"{func}: slots frame has no column(s) {', '.join(missing)} "
            "(expected a frame from scan_slots() or slots_frame())"
        )


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _empty(fig: Figure, ax: Axes, title: str) -> Figure:
    ax.set_title(f"{title}: no free slots to plot")
    ax.text(0.5, 0.5, "no slots", ha="center", va="center", color="grey", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def _template_labels(slots: pd.DataFrame) -> pd.Series:
    """A readable label per row: the template name when the frame has one, else its id."""
    ids = slots["template_id"].astype("str")
    if "template_name" in slots.columns:
        names = slots["template_name"].astype("str").fillna("")
        return names.where(names.str.len() > 0, ids)
    return ids


def availability_heatmap(
    slots: pd.DataFrame, *, ax: Axes | None = None, title: str = "Free slots by weekday and hour"
) -> Figure:
    """Heatmap of free slot starts: weekday (rows) × hour of day (columns), counts annotated.

    Hours are the organization's local hours (the frame's ``start`` time zone); the columns
    span the hours that have slots.

    Example:
        >>> fig = availability_heatmap(scan_slots(client))   # doctest: +SKIP
        >>> fig.savefig("heatmap.png")                        # doctest: +SKIP
    """
    _require(slots, ["start"], "availability_heatmap")
    fig, ax = _axes(ax, (9.0, 3.8))
    start = slots["start"].dropna()
    if start.empty:
        return _empty(fig, ax, title)
    start = pd.to_datetime(start)
    counts = (
        pd.crosstab(start.dt.day_of_week, start.dt.hour)
        .reindex(index=range(7), fill_value=0)
        .reindex(
            columns=range(int(start.dt.hour.min()), int(start.dt.hour.max()) + 1), fill_value=0
        )
    )
    grid = counts.to_numpy()
    image = ax.imshow(grid, aspect="auto", cmap="YlGn", interpolation="nearest", vmin=0)
    ax.set_yticks(range(7), WEEKDAYS)
    ax.set_xticks(range(len(counts.columns)), [f"{h:02d}" for h in counts.columns])
    ax.set_xlabel(f"hour of day ({_zone_name(start)})")
    ax.set_title(f"{title} ({len(start)} slots)")
    threshold = grid.max() * 0.6
    for (row, col), value in np.ndenumerate(grid):
        if value:
            ax.text(
                col,
                row,
                str(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > threshold else "black",
            )
    fig.colorbar(image, ax=ax, label="free slots")
    return fig


def _zone_name(start: pd.Series) -> str:
    tz = getattr(start.dt, "tz", None)
    return str(tz) if tz is not None else "local time"


def daily_availability(
    slots: pd.DataFrame, *, ax: Axes | None = None, title: str = "Free slots per day"
) -> Figure:
    """Line chart of free slots per calendar day, one line per template (days without slots = 0).

    Templates are labelled by ``template_name`` when the frame has it, else by ``template_id``.

    Example:
        >>> fig = daily_availability(scan_slots(client))     # doctest: +SKIP
    """
    _require(slots, ["start", "template_id"], "daily_availability")
    fig, ax = _axes(ax, (10.0, 4.2))
    data = slots.dropna(subset=["start"])
    if data.empty:
        return _empty(fig, ax, title)
    day = pd.to_datetime(data["start"]).dt.tz_localize(None).dt.normalize()
    table = pd.crosstab(day, _template_labels(data))
    table = table.reindex(pd.date_range(table.index.min(), table.index.max()), fill_value=0)
    labels = sorted(table.columns)
    # the default cycle repeats after 10 colours; a scan often has more templates than that
    cmap = matplotlib.colormaps["tab20" if len(labels) > 10 else "tab10"]
    colors = [cmap(k) for k in range(cmap.N)]
    for i, label in enumerate(labels):
        color = colors[i % len(colors)]
        ax.plot(table.index, table[label], marker="o", markersize=3, label=label, color=color)
    ax.set_ylabel("free slots")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{title} ({len(data)} slots, {table.shape[1]} templates)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.autofmt_xdate()
    return fig


def _resource_names(resources: pd.DataFrame | Mapping[str, str] | None) -> dict[str, str]:
    if resources is None:
        return {}
    if isinstance(resources, Mapping):
        return {str(k): str(v) for k, v in resources.items()}
    if isinstance(resources, pd.DataFrame):
        id_col = next((c for c in ("resource_id", "id") if c in resources.columns), None)
        name_col = next((c for c in ("name", "display_name") if c in resources.columns), None)
        if id_col is None or name_col is None:
            raise ValueError(
                "resource_load: resources frame needs a 'resource_id' (or 'id') and a 'name' "
                f"column, got {', '.join(map(str, resources.columns))}"
            )
        return {
            str(k): str(v) for k, v in zip(resources[id_col], resources[name_col], strict=True) if k
        }
    raise TypeError(
        "resource_load: resources must be a DataFrame, a mapping id -> name or None, "
        f"got {type(resources).__name__}"
    )


def resource_load(
    slots: pd.DataFrame,
    resources: pd.DataFrame | Mapping[str, Any] | None = None,
    *,
    ax: Axes | None = None,
    top: int | None = 20,
    title: str = "Resources by number of free slots they appear in",
) -> Figure:
    """Horizontal bars: in how many free slots each resource (staff, room, …) takes part.

    A resource in few of the slots where it is needed is a bottleneck. ``resources`` (a frame
    from ``resources_frame()`` / ``client.resources_frame()`` or a mapping id → name) turns ids into
    names; ``top`` limits the bars to the busiest ones (``None``: all).

    Example:
        >>> fig = resource_load(slots, client.resources_frame())   # doctest: +SKIP
    """
    _require(slots, ["resource_ids"], "resource_load")
    fig, ax = _axes(ax, (8.0, 4.0))
    names = _resource_names(resources)
    ids = slots["resource_ids"].dropna().explode().dropna()
    if ids.empty:
        return _empty(fig, ax, title)
    counts = ids.astype("str").value_counts()
    if top is not None:
        counts = counts.head(top)
    counts = counts.iloc[::-1]  # busiest at the top of a barh
    labels = [names.get(r, r) for r in counts.index]
    bars = ax.barh(labels, counts.to_numpy(), color="tab:blue")
    total = len(slots)
    ax.bar_label(
        bars, labels=[f"{n} ({n / total:.0%})" for n in counts.to_numpy()], padding=3, fontsize=8
    )
    ax.set_xlabel(f"free slots including the resource (of {total})")
    ax.set_xlim(0, counts.max() * 1.2)
    ax.set_title(title)
    return fig
