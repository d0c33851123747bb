"""Writing the frames to files: one function, so a notebook and ``bt-explore scan --csv`` write
the same columns.

The frames' list columns (``resource_ids``, ``opening_days``, ``additional_data_keys``) hold a
tuple per row. CSV has no lists: there they are written as the items joined by one space
(``"r1 r2"``; ids and day names hold no spaces), and read back with ``.str.split()``. Parquet
keeps them as lists of strings; it needs pyarrow (``pip install "bt_explore[parquet]"``).
Datetime columns keep their offset in CSV (ISO 8601) and their time zone in Parquet.

Example:
    >>> import bt_explore, pandas as pd
    >>> frame = pd.DataFrame({"slot_id": ["s1"], "resource_ids": [("r1", "r2")]})
    >>> print(flat_frame(frame).to_csv(index=False).strip())
    slot_id,resource_ids
    s1,r1 r2
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

__all__ = ["flat_frame", "save_frame"]

#: The suffixes :func:`save_frame` writes.
FORMATS = (".csv", ".parquet")


def _list_columns(frame: pd.DataFrame) -> list[str]:
    return [
        name
        for name in frame.columns
        if frame[name].dtype == object
        and frame[name].map(lambda v: isinstance(v, (tuple, list))).any()
    ]


def flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose list columns are strings of their items joined by a space: what
    :func:`save_frame` writes to CSV.

    Example:
        >>> import pandas as pd
        >>> flat_frame(pd.DataFrame({"resource_ids": [("r1",), ()]}))["resource_ids"].tolist()
        ['r1', '']
    """
    columns = _list_columns(frame)
    return frame.assign(**{name: frame[name].map(" ".join) for name in columns})


def save_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame of bt_explore to ``path``: ``.csv`` (list columns joined by a space) or
    ``.parquet`` (list columns as lists; needs pyarrow). Returns the path.

    Example:
        >>> import bt_explore
        >>> with bt_explore.connect(mode="sandbox", now="2026-12-01T09:00:00+01:00") as client:
        ...     path = bt_explore.save_frame(client.templates_frame(), "templates.csv")
        >>> path.name
        'templates.csv'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        flat_frame(frame).to_csv(path, index=False)
    elif suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise ImportError('writing Parquet needs pyarrow: pip install "bt_explore[parquet]"')
        columns = _list_columns(frame)
        frame.assign(**{n: frame[n].map(list) for n in columns}).to_parquet(path, index=False)
    else:
        raise ValueError(
            f"path: {path.name!r} has no suffix save_frame writes ({', '.join(FORMATS)})"
        )
    return path
