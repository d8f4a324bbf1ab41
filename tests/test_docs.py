"""Docstring examples run, and the README's quick start is what CI runs."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import pytest

import coachmatch
from tests.conftest import ROOT

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(coachmatch.__path__, "coachmatch.")
    if m.name != "coachmatch.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_functions_have_examples() -> None:
    missing = []
    for name in coachmatch.__all__:
        obj = getattr(coachmatch, name)
        if callable(obj) and not isinstance(obj, type) and "Examples" not in (obj.__doc__ or ""):
            missing.append(name)
    assert missing == []


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)\n(.*?)```", section, re.S)
    assert block, "the quick start needs a shell block"
    return [
        line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")
    ]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    commands = quick_start()
    assert len(commands) == 2
    assert "coachmatch demo" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[0] in ci
    assert commands[1] in ci


def test_readme_shows_what_the_demo_prints(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every line of the quick start's sample output (timings and elisions aside) is
    a line the demo prints: the figures in the README cannot drift from the program."""
    from pathlib import Path

    from coachmatch.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    sample = re.search(r"```text\n(.*?)```", section, re.S)
    assert sample, "the quick start shows the demo's output"
    assert main(["demo", "--out", str(Path(str(tmp_path)) / "demo")]) == 0
    printed = set(capsys.readouterr().out.splitlines())
    timed = ("method:", "runtime:", "wrote ")
    shown = [
        line
        for line in sample.group(1).splitlines()
        if line.strip() and line.strip() != "..." and not line.startswith(timed)
    ]
    assert len(shown) > 10
    assert [line for line in shown if line not in printed] == []


def test_readme_python_examples_run(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    work = Path(str(tmp_path))
    (work / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(work)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert (work / "out" / "program-copy" / "program.toml").is_file()
