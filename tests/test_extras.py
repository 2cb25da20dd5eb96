"""A missing extra is told before any work, in one line with the command that installs it;
progress shows on a terminal and never in a pipe."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import good_rows, write_csv

HIDE = """
import os, sys
for name in os.environ["HIDE_MODULES"].split(","):
    sys.modules[name] = None  # `import name` now raises ImportError, as if not installed
"""


def run(tmp_path: Path, *args: str, hide: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``stockbrief ARGS`` in a fresh interpreter where the ``hide`` modules cannot be imported."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(HIDE)
    env = {**os.environ, "PYTHONPATH": str(site), "HIDE_MODULES": ",".join(hide)}
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with five bars of ABC and nothing computed."""
    path = tmp_path / "x.duckdb"
    bars = write_csv(tmp_path / "ABC.csv", good_rows())
    done = run(tmp_path, "ingest", "prices", str(bars), "--store", str(path))
    assert done.returncode == 0, done.stderr
    return path


def one_line_error(done: subprocess.CompletedProcess[str], install: str) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert line.endswith(f"pip install '{install}'")
    assert done.stdout == ""
    return line


def test_dask_engine_without_dask(tmp_path: Path, store: Path) -> None:
    before = digest(store)
    done = run(tmp_path, "compute", "--engine", "dask", "--store", str(store), hide=("dask",))
    line = one_line_error(done, "stockbrief[dask]")
    assert line == (
        "error: the dask engine needs the dask extra (dask not installed):"
        " pip install 'stockbrief[dask]'"
    )
    assert digest(store) == before  # nothing computed, nothing exported
    assert not (tmp_path / "x.duckdb.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["site"]


def test_pdf_without_weasyprint(tmp_path: Path, store: Path) -> None:
    before = digest(store)
    out = tmp_path / "abc.pdf"
    done = run(
        tmp_path,
        *("brief", "ABC", "--format", "pdf", "--out", str(out), "--store", str(store)),
        hide=("weasyprint",),
    )
    line = one_line_error(done, "stockbrief[pdf]")
    assert "PDF output needs the pdf extra (weasyprint not installed)" in line
    assert not out.exists()
    assert digest(store) == before


def test_fetch_without_yfinance(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    done = run(
        tmp_path,
        *("fetch", "BABA", "--since", "2026-01-02", "--store", str(path)),
        hide=("yfinance",),
    )
    one_line_error(done, "stockbrief[yahoo]")
    assert not path.exists()  # refused before the store was created


@pytest.mark.parametrize("hidden", ["fastapi", "uvicorn"])
def test_serve_without_the_web_extra(tmp_path: Path, store: Path, hidden: str) -> None:
    done = run(tmp_path, "serve", "--store", str(store), "--port", "1", hide=(hidden,))
    line = one_line_error(done, "stockbrief[web]")
    assert f"the dashboard needs the web extra ({hidden} not installed)" in line


def test_extras_named_in_the_package_exist() -> None:
    """Every install line names an extra that pyproject.toml declares."""
    import tomllib

    from stockbrief.console import EXTRAS

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)


# -- progress -------------------------------------------------------------------------------


def run_on_terminal(tmp_path: Path, *args: str) -> tuple[str, str]:
    """Run with stderr on a pseudo-terminal and stdout on a pipe: (stdout, terminal's text)."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "stockbrief", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
    ) as process:
        os.close(follower)
        screen = bytearray()
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            screen += chunk
        stdout = process.stdout.read() if process.stdout else b""
        assert process.wait(timeout=300) == 0, screen.decode(errors="replace")
    os.close(leader)
    return stdout.decode(), screen.decode(errors="replace")


def test_compute_shows_a_bar_on_a_terminal_only(tmp_path: Path, store: Path) -> None:
    piped = run(tmp_path, "compute", "--full", "--store", str(store))
    assert piped.returncode == 0, piped.stderr
    assert "computing" not in piped.stderr
    assert "\x1b" not in piped.stderr  # no cursor movement when not a terminal
    stdout, screen = run_on_terminal(tmp_path, "compute", "--full", "--store", str(store))
    assert "computing tickers" in screen
    assert "1/1" in screen  # the one ticker, done
    assert "full compute" in stdout or "events" in stdout
    assert "computing" not in stdout


def test_ingest_counts_its_files_on_a_terminal(tmp_path: Path) -> None:
    files = [str(write_csv(tmp_path / f"T{i}.csv", good_rows())) for i in range(3)]
    store = str(tmp_path / "ingested.duckdb")
    stdout, screen = run_on_terminal(tmp_path, "ingest", "prices", *files, "--store", store)
    assert "reading files" in screen
    assert "3/3" in screen
    assert "prices: 15 rows for 3 tickers from 3 files" in stdout
    piped = run(tmp_path, "ingest", "prices", *files, "--store", store)
    assert piped.returncode == 0, piped.stderr
    assert "reading files" not in piped.stderr


def test_json_stays_clean_when_stderr_is_a_terminal(tmp_path: Path, store: Path) -> None:
    stdout, screen = run_on_terminal(
        tmp_path, "study", "gap_up", "--format", "json", "--store", str(store)
    )
    rows = json.loads(stdout)
    assert [r["horizon"] for r in rows] == [5, 20, 60]
    assert "studying gap_up" in screen


def test_the_daily_run_shows_its_progress(tmp_path: Path, store: Path) -> None:
    watchlist = tmp_path / "watch.txt"
    watchlist.write_text("ABC\n")
    args = ("run", "--watchlist", str(watchlist), "--out", str(tmp_path / "daily"))
    stdout, screen = run_on_terminal(tmp_path, *args, "--store", str(store))
    assert "updating events, then writing briefs" in screen
    assert "updating events" not in stdout
    assert (tmp_path / "daily" / "2024-01-08" / "index.json").exists()


@pytest.mark.slow
def test_the_first_compile_spins_beside_its_notice(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold kernel cache: the notice, then a spinner while the kernels compile, and the
    table on stdout whole."""
    from stockbrief.cli import COMPILING

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    stdout, screen = run_on_terminal(tmp_path, "indicators", "ABC", "--store", str(store))
    assert screen.startswith(COMPILING)
    assert "compiling kernels" in screen
    assert "ABC as of 2024-01-08" in stdout
    assert "sma_20" in stdout
