"""The test command tells what it did not do: skipped browser tests are named, with how to run
them, at the end of the output; screenshots go to a temporary folder it names."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "JIDO_REQUIRE_BROWSER"} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_skipped_browser_tests_are_announced_with_how_to_run_them(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"
    shots = tmp_path / "shots"
    result = run_pytest(
        "tests/test_show_browser.py", JIDO_CHROMIUM=str(missing), JIDO_SCREENSHOTS=str(shots)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "browser tests skipped" in out
    assert f"1 browser test(s) did not run: {missing} is not installed" in out
    assert "JIDO_REQUIRE_BROWSER=1 bash scripts/test.sh" in out
    assert not shots.exists()  # no screenshot taken, no folder made


def test_required_browser_fails_instead_of_skipping(tmp_path: Path) -> None:
    result = run_pytest(
        "tests/test_show_browser.py",
        JIDO_CHROMIUM=str(tmp_path / "no-chromium"),
        JIDO_REQUIRE_BROWSER="1",
        JIDO_SCREENSHOTS=str(tmp_path / "shots"),
    )
    assert result.returncode == 1
    assert "JIDO_REQUIRE_BROWSER=1 but" in result.stdout
    assert "browser tests skipped" not in result.stdout


def test_notebooks_run_by_nbval_write_nothing_into_the_source_tree() -> None:
    """The quick start saves sessions and exports files beside itself: nbval runs its kernel
    in a temporary copy of the folder, so the source folder is exactly as it was."""
    folder = ROOT / "notebooks"
    before = sorted(p.name for p in folder.iterdir())
    result = run_pytest("notebooks/quickstart.ipynb", "--nbval-lax", "--nbval-current-env")
    assert result.returncode == 0, result.stdout[-3000:]
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not (folder / ".sessions").exists()


def test_screenshots_go_to_a_temporary_folder() -> None:
    from jupyterlab_harness import ARTIFACTS

    assert ROOT not in ARTIFACTS.parents


@pytest.mark.parametrize("required", [False, True], ids=["skips", "fails-in-ci"])
def test_missing_jupyterlab_skips_with_the_reason(required: bool, monkeypatch) -> None:
    """Without JupyterLab a browser test skips saying so (fails under JIDO_REQUIRE_BROWSER=1),
    as without Chromium, instead of erroring when the server does not start."""
    import jupyterlab_harness

    find_spec = importlib.util.find_spec

    def without_jupyterlab(name: str, *args):
        return None if name == "jupyterlab" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_jupyterlab)
    monkeypatch.setattr(jupyterlab_harness, "CHROMIUM", sys.executable)  # any executable file
    if required:
        monkeypatch.setenv("JIDO_REQUIRE_BROWSER", "1")
    else:
        monkeypatch.delenv("JIDO_REQUIRE_BROWSER", raising=False)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome) as info:
        jupyterlab_harness.require_browser()
    assert "JupyterLab is not installed" in str(info.value)
