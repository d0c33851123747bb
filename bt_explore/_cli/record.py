"""``bt-explore record``: re-record every cassette, then re-execute the notebooks in replay mode.

1. The test cassettes: ``pytest -m cassette`` runs with ``BT_EXPLORE_MODE=record``, so each
   cassette test records its traffic instead of replaying it.
2. The notebook cassettes: each notebook runs with ``BT_EXPLORE_MODE=record``; its
   ``connect(cassette=...)`` records.
3. The notebooks run once more with ``BT_EXPLORE_MODE=replay`` and are saved with those outputs,
   so committed outputs never hold live values.

Everything is recorded into a staging folder first and copied over ``cassettes/`` only when every
step succeeded: a failed run changes nothing. Against the sandbox (the default) the clock is
pinned, so recording twice gives identical files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HELP = "re-record every cassette (tests and notebooks) and refresh the notebooks' outputs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--live",
        action="store_true",
        help="record against bookingtime with your credentials instead of the sandbox",
    )
    p.add_argument(
        "--root",
        type=Path,
        default=None,
        help="project checkout (default: the folder holding cassettes/ and notebooks/)",
    )
    p.add_argument("--no-tests", action="store_true", help="skip the test cassettes")
    p.add_argument("--no-notebooks", action="store_true", help="skip the notebooks")
    p.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="re-record only these notebooks (default: every notebooks/[0-9]*.ipynb)",
    )
    p.add_argument("--timeout", type=int, default=600, help="seconds allowed per notebook cell")


def _project_root(given: Path | None) -> Path:
    candidates = [given] if given else [Path.cwd(), *Path.cwd().parents]
    for folder in candidates:
        if folder and (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder.resolve()
    raise SystemExit(
        "bt-explore record: run it inside a bt_explore checkout (a folder with notebooks/ and "
        "pyproject.toml), or pass --root"
    )


def execute_notebook(path: Path, env: dict[str, str], timeout: int, *, save: bool) -> None:
    """Run a notebook in a fresh kernel (its folder as working directory); optionally save it.

    Saved notebooks keep their outputs but no execution timing, widget state or widget views
    (their model ids are random), so re-running gives the same file.
    """
    from bt_explore.extras import missing_extra

    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:
        raise missing_extra(exc.name or "nbclient", "bt-explore record") from exc

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    ).execute(env={**os.environ, **env})  # the kernel's environment; ours stays as it is
    if save:
        nbformat.write(normalize_notebook(nb), path)


def normalize_notebook(nb: Any) -> Any:
    """Drop what differs from run to run: widget state and views, timing, kernel versions."""
    nb.metadata.pop("widgets", None)
    lang = nb.metadata.get("language_info")
    if lang:
        lang.pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)  # only code cells have outputs
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is not None:
                # a widget view's model id is random; its text/plain repr stays
                data.pop("application/vnd.jupyter.widget-view+json", None)
                if not data:
                    continue
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue  # progress bars and warnings are not part of the result
            kept.append(out)
        cell["outputs"] = kept
    return nb


def _chosen_notebooks(root: Path, wanted: list[Path]) -> list[Path] | None:
    """The notebooks to re-record: every ``notebooks/[0-9]*.ipynb``, or those of ``wanted``
    (``None``, after naming them, when some are not among them)."""
    notebooks = sorted((root / "notebooks").glob("[0-9]*.ipynb"))
    if not wanted:
        return notebooks
    chosen = {path.resolve() for path in wanted}
    unknown = sorted(str(p) for p in chosen - {nb.resolve() for nb in notebooks})
    if unknown:
        print(
            f"bt-explore record: not a notebook of {root / 'notebooks'}: {', '.join(unknown)}",
            file=sys.stderr,
        )
        return None
    return [nb for nb in notebooks if nb.resolve() in chosen]


def _record_test_cassettes(root: Path, env: dict[str, str]) -> bool:
    """``pytest -m cassette`` in record mode; whether it passed."""
    print("recording the test cassettes (pytest -m cassette) ...")
    command = [sys.executable, "-m", "pytest", "-q", "-m", "cassette", "-p", "no:cacheprovider"]
    done = subprocess.run([*command, "tests"], cwd=root, env={**os.environ, **env}, check=False)
    if done.returncode != 0:
        print("bt-explore record: the cassette tests failed; nothing was changed", file=sys.stderr)
    return done.returncode == 0


def _record_into(staging: str, root: Path, notebooks: list[Path], args: argparse.Namespace) -> int:
    """Record the tests' and the notebooks' cassettes into ``staging``, then copy them over
    ``cassettes/``; how many, or ``0`` when a step failed or nothing was recorded."""
    env = {
        "BT_EXPLORE_MODE": "record",
        "BT_EXPLORE_CASSETTE_DIR": staging,
        "BT_EXPLORE_RECORD_LIVE": "1" if args.live else "",
        "PYTHONHASHSEED": "0",
    }
    if not args.no_tests and not _record_test_cassettes(root, env):
        return 0
    for nb in [] if args.no_notebooks else notebooks:
        print(f"recording {nb.relative_to(root)} ...")
        execute_notebook(nb, env, args.timeout, save=False)
    recorded = sorted(Path(staging).glob("*.yaml"))
    if not recorded:
        print("bt-explore record: nothing was recorded", file=sys.stderr)
        return 0
    target = root / "cassettes"
    target.mkdir(exist_ok=True)
    for f in recorded:
        shutil.copyfile(f, target / f.name)
        print(f"  cassettes/{f.name}")
    return len(recorded)


def run(args: argparse.Namespace) -> int:
    root = _project_root(args.root)
    notebooks = _chosen_notebooks(root, args.notebooks)
    if notebooks is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="bt-explore-record-") as staging:
        recorded = _record_into(staging, root, notebooks, args)
    if not recorded:
        return 1
    if not args.no_notebooks:
        replay = {"BT_EXPLORE_MODE": "replay", "BT_EXPLORE_CASSETTE_DIR": str(root / "cassettes")}
        for nb in notebooks:
            print(f"storing replayed outputs in {nb.relative_to(root)} ...")
            execute_notebook(nb, replay, args.timeout, save=True)
    print(f"recorded {recorded} cassette(s); review with `git diff`")
    return 0
