"""Keep every test, notebook kernel included, away from the user's real key, data and cache
folders, and out of the source tree."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

_state_dir = tempfile.mkdtemp(prefix="jido-test-state-")
os.environ["JIDO_MAGICS_KEY_FILE"] = os.path.join(_state_dir, "session_key")
os.environ["JUPYTER_DATA_DIR"] = os.path.join(_state_dir, "jupyter-data")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM fetches prices at import otherwise
os.environ["JIDO_MAGICS_CACHE_DIR"] = os.path.join(_state_dir, "cache")
# Hypothesis keeps its examples and caches in ./.hypothesis otherwise.
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(_state_dir, "hypothesis")
for _name in ("JIDO_MAGICS_PROVIDER", "JIDO_MAGICS_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_name, None)


def pytest_configure(config) -> None:
    """nbval starts each notebook's kernel in the notebook's folder, where the notebook saves
    sessions and exports: start it in a temporary copy of that folder instead."""
    try:
        import nbval.plugin
    except ImportError:
        return
    start_kernel = nbval.plugin.RunningKernel
    if getattr(start_kernel, "in_temporary_copy", False):
        return

    spec = importlib.util.spec_from_file_location(
        "execute_notebook", Path(__file__).parent / "scripts" / "execute_notebook.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    def in_temporary_copy(kernel_name, cwd=None, *args, **kwargs):
        if cwd is not None:
            into = tempfile.mkdtemp(prefix="nbval-", dir=_state_dir)
            cwd = str(script.scratch_copy(cwd, into))
        return start_kernel(kernel_name, cwd, *args, **kwargs)

    in_temporary_copy.in_temporary_copy = True  # type: ignore[attr-defined]
    nbval.plugin.RunningKernel = in_temporary_copy
