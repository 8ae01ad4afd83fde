"""An IPython profile loads the extension at start and configures it (a real ``ipython``
process with its own IPYTHONDIR)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CONFIG = """\
c = get_config()  # noqa: F821
c.InteractiveShellApp.extensions = ["jido_magics"]
c.SessionMagics.max_sessions = 3
c.SessionMagics.max_messages = 4
c.SessionMagics.default_model = "profile-model"
"""

PROBE = textwrap.dedent(
    """
    from jido_magics.interface.extension import extension_for
    shell = get_ipython()
    ext = extension_for(shell)
    print("LOADED", ext is not None)
    registry = ext.registry
    print("SETTINGS", ext.magics.max_sessions, registry.max_sessions, registry.caps.max_messages)
    for i in range(3):
        shell.run_line_magic("session", f"new s{i} --provider offline")
    try:
        shell.run_line_magic("session", "new s3")
    except Exception as exc:
        print("REFUSED", type(exc).__name__, exc)
    s = ext.registry.active
    for i in range(6):
        s.add_message("user", str(i))
    print("KEPT", [m.content for m in s.messages], s.dropped["messages"], s.config.model)
    """
)


def run_ipython(tmp_path: Path, config: str, code: str) -> subprocess.CompletedProcess[str]:
    ipython_dir = tmp_path / "ipython"
    profile_dir = ipython_dir / "profile_jido"
    profile_dir.mkdir(parents=True)
    (profile_dir / "ipython_config.py").write_text(config, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "IPYTHONDIR": str(ipython_dir)}
    env.pop("JPY_SESSION_NAME", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            f"--profile-dir={profile_dir}",
            "--no-autoindent",
            "--colors=nocolor",
            "-c",
            code,
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


def test_profile_loads_the_extension_with_its_settings(tmp_path: Path) -> None:
    result = run_ipython(tmp_path, CONFIG, PROBE)
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    assert "LOADED True" in out
    assert "SETTINGS 3 3 4" in out
    assert "REFUSED UsageError 3 sessions are open, the most allowed" in out
    assert "KEPT ['2', '3', '4', '5'] 2 profile-model" in out


def test_profile_sets_the_sessions_folder_and_autosave(tmp_path: Path) -> None:
    saved = tmp_path / "saved sessions"
    config = (
        "c = get_config()  # noqa: F821\n"
        'c.InteractiveShellApp.extensions = ["jido_magics"]\n'
        f"c.SessionMagics.sessions_dir = {str(saved)!r}\n"
        "c.SessionMagics.autosave = False\n"
    )
    code = textwrap.dedent(
        """
        shell = get_ipython()
        shell.run_line_magic("session", "where")
        shell.run_line_magic("chat", "hello")
        import os
        print("AFTER CHAT", os.path.isdir(WHERE) and sorted(os.listdir(WHERE)))
        shell.run_line_magic("session", "save")
        print("AFTER SAVE", len(os.listdir(WHERE)))
        """
    ).replace("WHERE", repr(str(saved)))
    result = run_ipython(tmp_path, config, code)
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    assert f"Sessions folder: {saved}" in out
    assert "AFTER CHAT False" in out or "AFTER CHAT []" in out  # autosave off: nothing written
    assert "AFTER SAVE 1" in out
    assert not (tmp_path / "work" / ".sessions").exists()


def test_without_the_profile_setting_nothing_is_loaded(tmp_path: Path) -> None:
    result = run_ipython(
        tmp_path,
        "c = get_config()  # noqa: F821\n",
        "import sys; print('LOADED', 'jido_magics' in get_ipython().extension_manager.loaded)",
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED False" in result.stdout
