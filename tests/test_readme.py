"""README.md stays true: its command reference is the ``%session?`` manual, its quick start is
two commands, and it documents every setting."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from jido_magics.interface.commands import command_table
from jido_magics.interface.magics import SessionMagics, session_manual

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def reference_script():
    spec = importlib.util.spec_from_file_location(
        "update_readme_reference", ROOT / "scripts" / "update_readme_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_block() -> str:
    script = reference_script()
    assert README.count(script.START) == 1 and README.count(script.END) == 1
    return README.split(script.START, 1)[1].split(script.END, 1)[0]


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_every_synopsis_of_the_manual_is_in_the_reference_in_order() -> None:
    synopses = [command.synopsis for command in command_table().values()]
    assert all(f"  {synopsis}\n" in session_manual() for synopsis in synopses)
    listed = [
        line.strip() for line in reference_block().splitlines() if line.startswith("%session ")
    ]
    missing = [s for s in synopses if s not in listed]
    extra = [s for s in listed if s not in synopses]
    assert not missing and not extra, (
        f"README reference differs from %session?: missing {missing}, extra {extra}; "
        "run scripts/update_readme_reference.py"
    )
    assert listed == synopses


def test_reference_block_is_the_manual_section_verbatim() -> None:
    expected = reference_script().reference_text()
    assert reference_block().strip("\n") == expected, "run scripts/update_readme_reference.py"


def test_no_other_session_command_is_documented_anywhere() -> None:
    names = set(command_table())
    used = set(re.findall(r"%session ([a-z]+)", README))
    assert used <= names, f"README mentions unknown subcommands: {sorted(used - names)}"
    assert names <= used


def test_chat_usage_matches_its_docstring() -> None:
    doc = SessionMagics.chat.__doc__
    for line in (
        "%%chat [--session TARGET] [--interpolate] [--code] [--error]",
        "%chat [OPTIONS] TEXT",
    ):
        assert line in doc and line in README


def test_quick_start_is_exactly_two_commands() -> None:
    blocks = re.findall(r"```(\w*)\n(.*?)```", section("Quick start"), re.S)
    assert len(blocks) == 1 and blocks[0][0] == "bash"
    commands = [
        line for line in blocks[0][1].splitlines() if line.strip() and not line.startswith("#")
    ]
    assert len(commands) == 2, commands
    assert [c.split("#")[0].split() for c in commands] == [
        ["bash", "scripts/lab.sh"],
        ["bash", "scripts/test.sh"],
    ]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()


def test_every_setting_is_documented() -> None:
    configuration = section("Configuration")
    settings = sorted(SessionMagics.class_traits(config=True))
    assert settings
    for name in settings:
        assert f"| `{name}` |" in configuration, name
        assert name in session_manual()


@pytest.mark.parametrize("anchor", sorted(set(re.findall(r"\]\(#([a-z0-9-]+)\)", README))))
def test_internal_links_point_at_headings(anchor: str) -> None:
    headings = re.findall(r"^#+ (.+)$", README, re.M)
    slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
    assert anchor in slugs


def test_security_model_says_what_the_signature_does_not_protect() -> None:
    security = section("Security model").lower()
    for phrase in ("confidentiality", "holding your key", "tampered", "different key"):
        assert phrase in security


def test_readme_says_how_browser_tests_run_and_what_to_do_after_a_restart() -> None:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    quick_start = text[text.index("## Quick start") : text.index("## Usage")]
    assert "skipped" in quick_start and "JIDO_REQUIRE_BROWSER=1 bash" in quick_start
    assert "After a kernel restart" in text and "`%session ui` again" in text
