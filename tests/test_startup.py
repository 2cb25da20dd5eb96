"""The command answers at once: help and version load none of the heavy libraries.

What is loaded is checked, not how long it takes: import times vary with the machine, but a
stray top-level import of numba or Polars shows up in ``sys.modules`` everywhere.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from helpers import good_rows, write_csv
from stockbrief.cli import COMPILING, app

HEAVY = (
    "duckdb",
    "matplotlib",
    "numba",
    "pandas",
    "polars",
    "pyarrow",
    "pydantic_settings",
    "rich",
    "stockbrief.api",
)
"""Modules that ``--help``, ``--version`` and ``import stockbrief`` must not load."""

PROBE = """
import sys
from stockbrief.cli import app
try:
    app(sys.argv[1:], prog_name="stockbrief")
except SystemExit:
    pass
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""
"""Parse the arguments as ``stockbrief`` does, then list every module loaded (on stderr)."""


def loaded(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code`` with ``args``."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return set(done.stderr.split())


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m in HEAVY or m.partition(".")[0] in HEAVY)


def help_invocations() -> list[list[str]]:
    """``--help`` of the command and of every subcommand, nested groups included."""
    found: list[list[str]] = [[], ["--help"]]

    def walk(group: Any, path: list[str]) -> None:
        for name, command in group.commands.items():
            found.append([*path, name, "--help"])
            if hasattr(command, "commands"):
                walk(command, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("args", help_invocations(), ids=lambda a: " ".join(a) or "(no args)")
def test_help_loads_no_heavy_module(args: list[str]) -> None:
    assert heavy_in(loaded(PROBE, *args)) == []


def test_version_is_the_installed_one_and_loads_nothing_heavy() -> None:
    assert heavy_in(loaded(PROBE, "--version")) == []
    done = subprocess.run(
        [sys.executable, "-m", "stockbrief", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"stockbrief {importlib.metadata.version('stockbrief')}\n"


def test_import_stockbrief_is_cheap_until_a_name_is_used() -> None:
    assert heavy_in(loaded("import stockbrief, sys; print(*sys.modules, file=sys.stderr)")) == []
    version = "import stockbrief, sys; stockbrief.__version__; print(*sys.modules, file=sys.stderr)"
    assert heavy_in(loaded(version)) == []
    used = loaded("import stockbrief, sys; stockbrief.Store; print(*sys.modules, file=sys.stderr)")
    assert {"duckdb", "polars"} <= used


def test_the_door_lists_every_name_before_loading_it() -> None:
    import stockbrief

    assert set(stockbrief.__all__) <= set(dir(stockbrief))
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        stockbrief.nonexistent  # noqa: B018


@pytest.mark.slow
def test_kernels_compile_once_and_say_so(tmp_path: Path) -> None:
    """A cold cache compiles, with one line saying so; the next run loads it, in silence."""
    store = str(tmp_path / "s.duckdb")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    def stockbrief(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "stockbrief", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )

    rows = str(write_csv(tmp_path / "ABC.csv", good_rows()))
    assert stockbrief("ingest", "prices", rows, "--store", store).returncode == 0
    first = stockbrief("indicators", "ABC", "--store", store)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [COMPILING]
    assert list((tmp_path / "numba").rglob("kernels.*.nbi"))
    again = stockbrief("indicators", "ABC", "--store", store)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    assert again.stdout == first.stdout
