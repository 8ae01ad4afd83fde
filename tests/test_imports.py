"""Importing the package stays cheap and the core stays pure."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("ipywidgets", "openai", "markdown_it", "IPython", "orjson", "nbformat", "litellm")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return {line.split(".")[0] for line in out.stdout.splitlines()}


def test_import_package_loads_no_widgets_sdk_or_ipython() -> None:
    loaded = _modules_after("import jido_magics; jido_magics.get_registry().create('x')")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_core_imports_only_the_standard_library() -> None:
    before = _modules_after("pass")
    after = _modules_after("import jido_magics.core")
    extra = {m for m in after - before if m != "jido_magics" and not m.startswith("_")}
    stdlib = set(sys.stdlib_module_names)
    assert extra <= stdlib, extra - stdlib


@pytest.mark.parametrize(
    "module", ["jido_magics.core", "jido_magics.persistence", "jido_magics.agents"]
)
def test_lower_layers_do_not_import_interface_libraries(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert not loaded & {"IPython", "ipywidgets", "openai"}


def test_agents_load_only_core_and_stdlib_until_a_provider_is_used() -> None:
    before = _modules_after("pass")
    after = _modules_after(
        "import jido_magics.agents.exchange, jido_magics.agents.providers.openai_provider\n"
        "from jido_magics.agents.providers import get_provider, check_installed\n"
        "get_provider('openai'); get_provider('litellm'); check_installed('litellm')\n"
        "from jido_magics.agents.providers.catalog import known_models\n"
        "assert known_models('litellm', 'anthropic')"
    )
    extra = {m for m in after - before if m != "jido_magics" and not m.startswith("_")}
    assert extra <= set(sys.stdlib_module_names), extra - set(sys.stdlib_module_names)
