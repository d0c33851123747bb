"""``bt-explore record``: saved notebooks are valid and free of run-to-run noise."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from bt_explore._cli.record import execute_notebook, normalize_notebook


def test_normalize_keeps_results_and_drops_noise():
    widget = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "0f3a", "version_major": 2},
            "text/plain": "BookingExplorer(...)",
        },
    )
    only_widget = new_output(
        "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "1b"}}
    )
    progress = new_output("stream", name="stderr", text="100%|████| 19/19 [00:01<00:00]")
    result = new_output("execute_result", data={"text/plain": "42"}, execution_count=1)
    code = new_code_cell("x", outputs=[widget, only_widget, progress, result])
    code.metadata["execution"] = {"iopub.execute_input": "2026-11-25T04:00:00Z"}
    nb = new_notebook(cells=[new_markdown_cell("# Title"), code])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}

    out = normalize_notebook(nb)

    nbformat.validate(out)  # markdown cells carry no outputs
    assert "widgets" not in out.metadata
    assert "execution" not in out.cells[1].metadata
    assert [o.get("data", {}).get("text/plain") for o in out.cells[1].outputs] == [
        "BookingExplorer(...)",
        "42",
    ]


def test_the_committed_notebooks_are_valid_and_normalized():
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert "widgets" not in nb.metadata, path.name
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {})


def test_record_refuses_a_notebook_that_is_not_one_of_the_project(tmp_path, capsys):
    from bt_explore.cli import main

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_a.ipynb").write_text("{}")
    (tmp_path / "pyproject.toml").write_text("")
    stray = tmp_path / "elsewhere.ipynb"
    code = main(["record", "--root", str(tmp_path), "--no-tests", str(stray)])
    assert code == 2
    assert "not a notebook of" in capsys.readouterr().err


def test_a_notebook_runs_with_the_given_environment_and_ours_stays_untouched(tmp_path, monkeypatch):
    monkeypatch.delenv("BT_EXPLORE_MODE", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.environ.get('BT_EXPLORE_MODE'))")]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    before = dict(os.environ)
    execute_notebook(path, {"BT_EXPLORE_MODE": "replay"}, 60, save=True)
    assert dict(os.environ) == before  # the kernel got it, this process never had it
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "replay\n"


def test_record_names_a_notebook_it_does_not_know_and_records_nothing(tmp_path, capsys):
    from bt_explore.cli import main

    root = Path(__file__).resolve().parent.parent
    assert main(["record", "--root", str(root), "--no-tests", str(tmp_path / "x.ipynb")]) == 2
    assert "not a notebook of" in capsys.readouterr().err
    assert main(["record", "--root", str(root), "--no-tests", "--no-notebooks"]) == 1
    assert "nothing was recorded" in capsys.readouterr().err
