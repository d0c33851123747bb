"""The core works without the extras, and a missing extra says which pip install brings it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Makes the extras' packages unimportable in a fresh interpreter, as in a core-only install.
HIDE_EXTRAS = textwrap.dedent(
    """
    import sys
    HIDDEN = {"ipywidgets", "matplotlib", "tqdm", "vcr", "yaml", "nbformat", "nbclient",
              "IPython", "ipykernel", "jupyterlab"}

    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    """
)


def run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKINGTIME_", "BT_EXPLORE_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", HIDE_EXTRAS + textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_core_works_without_any_extra(tmp_path):
    done = run(
        """
        import bt_explore
        with bt_explore.connect(now="2026-12-01T09:00:00+01:00") as client:  # the sandbox
            templates = client.templates_frame()
            slots = bt_explore.scan_slots(client, end="2026-12-15")  # no progress bar: no tqdm
            print(len(templates), len(slots) > 0)
        assert "tqdm" not in sys.modules and "ipywidgets" not in sys.modules
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["11", "True"]


def test_a_missing_extra_names_the_pip_install(tmp_path):
    done = run(
        """
        import bt_explore
        for what in ("import bt_explore.widgets", "import bt_explore.plots",
                     "bt_explore.connect(mode='replay', cassette='x')",
                     "bt_explore.scan_slots(bt_explore.connect(), progress=True)"):
            try:
                exec(what)
            except ImportError as exc:
                print(what, "->", exc)
            else:
                print(what, "-> no error")
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert "ipywidgets, which is not installed: pip install 'bt_explore[widgets]'" in lines[0]
    assert "matplotlib, which is not installed: pip install 'bt_explore[plots]'" in lines[1]
    assert "vcrpy, which is not installed: pip install 'bt_explore[record]'" in lines[2]
    assert "tqdm, which is not installed: pip install 'bt_explore[widgets]'" in lines[3]


# -- extras cut to purpose ------------------------------------------------------------------------


def _extras() -> dict[str, list[str]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["optional-dependencies"]


def _closure(extra: str) -> set[str]:
    """The distributions an extra brings (its own lines and those of the extras it names)."""
    from packaging.requirements import Requirement

    found: set[str] = set()
    for line in _extras()[extra]:
        requirement = Requirement(line)
        if requirement.name == "bt_explore":
            for inner in requirement.extras:
                found |= _closure(inner)
        else:
            found.add(requirement.name.lower())
    return found


def test_extras_py_names_the_extras_of_pyproject():
    from bt_explore.extras import EXTRAS, PARTS

    assert set(PARTS) == set(_extras()) - {"dev"}
    for module, (distribution, extra) in EXTRAS.items():
        assert distribution.lower() in _closure(extra), (module, extra)


def test_the_widgets_extra_brings_neither_jupyterlab_nor_voila():
    assert _closure("widgets") == {"ipywidgets", "tqdm"}
    assert "jupyterlab" not in _closure("app") and "voila" in _closure("app")
    assert _closure("widgets") | _closure("plots") | _closure("app") <= _closure("notebook")


def test_the_booking_explorer_works_without_jupyterlab_or_voila(tmp_path):
    done = run(
        """
        HIDDEN.difference_update({"ipywidgets", "tqdm", "IPython", "ipykernel"})
        HIDDEN.update({"voila", "jupyter_server", "notebook"})
        import bt_explore
        from bt_explore.widgets import BookingExplorer
        with bt_explore.connect(now="2026-12-01T09:00:00+01:00") as client:
            app = BookingExplorer(client, background=False)
            app.earliest_button.click()
            print(app.controller.status.level, len(app.slot_buttons.options) > 0)
            app.close()
        assert not {"jupyterlab", "voila", "matplotlib"} & set(sys.modules)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["success", "True"]
