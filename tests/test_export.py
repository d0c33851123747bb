"""``save_frame``: a notebook and ``bt-explore scan --csv`` write the same columns."""

from __future__ import annotations

import pandas as pd
import pytest

import bt_explore
from bt_explore.cli import main
from bt_explore.export import flat_frame, save_frame


@pytest.fixture(scope="module")
def slots():
    with bt_explore.connect(mode="sandbox", now="2026-12-01T09:00:00+01:00") as client:
        return bt_explore.scan_slots(client, end="2026-12-08", progress=False)


def test_csv_writes_list_columns_as_space_joined_items(slots, tmp_path):
    path = save_frame(slots, tmp_path / "slots.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == list(slots.columns)
    expected = [" ".join(ids) for ids in slots["resource_ids"]]
    assert back["resource_ids"].fillna("").tolist() == expected
    assert not back["resource_ids"].astype(str).str.contains(r"[()']").any()


def test_the_scan_command_writes_what_save_frame_writes(slots, tmp_path, capsys):
    assert main(["scan", "--weeks", "1", "--no-progress", "--csv", str(tmp_path / "cli.csv")]) == 0
    capsys.readouterr()
    cli = pd.read_csv(tmp_path / "cli.csv")
    mine = pd.read_csv(save_frame(slots, tmp_path / "mine.csv"))
    assert list(cli.columns) == list(mine.columns)
    assert cli["resource_ids"].dropna().str.fullmatch(r"\S+( \S+)*").all()


def test_parquet_keeps_lists_and_time_zones(slots, tmp_path):
    pytest.importorskip("pyarrow")
    back = pd.read_parquet(save_frame(slots, tmp_path / "slots.parquet"))
    assert [tuple(v) for v in back["resource_ids"]] == list(slots["resource_ids"])
    assert back["start"].dt.tz is not None


def test_parquet_without_pyarrow_names_the_extra(slots, tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pyarrow" else real_find_spec(name, *a),
    )
    with pytest.raises(ImportError, match=r"bt_explore\[parquet\]"):
        save_frame(slots, tmp_path / "slots.parquet")


def test_an_unknown_suffix_names_the_path(slots, tmp_path):
    with pytest.raises(ValueError, match=r"path: 'slots.xlsx' has no suffix save_frame writes"):
        save_frame(slots, tmp_path / "slots.xlsx")


def test_flat_frame_leaves_other_columns_alone():
    frame = pd.DataFrame({"a": ["x"], "ids": [("1", "2")]})
    assert flat_frame(frame).to_dict("records") == [{"a": "x", "ids": "1 2"}]
    assert frame["ids"].tolist() == [("1", "2")]  # a copy
