"""docs/tutorial.md runs: every cell in order in one namespace, and its numbers are the data's."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
TEXT = TUTORIAL.read_text(encoding="utf-8")
CELLS = re.findall(r"^```python\n(.*?)^```$", TEXT, re.S | re.M)
PATHS = {
    'Path("../shared/data/yahoo-30")': "yahoo-30",
    'Path("examples/alibaba-2026-01")': str(ROOT / "examples" / "alibaba-2026-01"),
}
"""The tutorial's paths, relative to a checkout, and where the test finds them."""


def run_cell(source: str, namespace: dict[str, Any]) -> object:
    """Run a cell as a notebook does: its last expression is its value, and is displayed."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<tutorial>", "exec"), namespace)
    if last is None:
        return None
    value = eval(compile(ast.Expression(last.value), "<tutorial>", "eval"), namespace)
    shown = getattr(value, "_repr_html_", None)
    if callable(shown):
        assert shown()  # a notebook shows it without failing
    return value


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[object]]:
    from conftest import shared_path

    data = shared_path("yahoo-30")
    cells = []
    for cell in CELLS:
        for literal, target in PATHS.items():
            where = data if target == "yahoo-30" else Path(target)
            cell = cell.replace(literal, f"Path({str(where)!r})")
        cells.append(cell)
    assert "".join(CELLS).count("Path(") > "".join(cells).count('Path("')
    folder = tmp_path_factory.mktemp("tutorial")
    mp = pytest.MonkeyPatch()
    mp.chdir(folder)
    namespace: dict[str, Any] = {"__name__": "tutorial", "__folder__": folder}
    try:
        values = [run_cell(cell, namespace) for cell in cells]
    finally:
        mp.undo()
    return namespace, values


def test_the_tutorial_has_cells_to_run() -> None:
    assert len(CELLS) >= 10
    for literal in PATHS:
        assert literal in TEXT


def test_every_cell_runs_and_the_store_holds_what_it_says(
    executed: tuple[dict[str, Any], list[object]],
) -> None:
    ns, _ = executed
    assert "37,906 bars of 30 tickers" in TEXT
    summary = ns["report"].summary()
    assert summary.startswith("prices: 37,906 rows for 30 tickers from 30 files")
    assert "30 rows outside --from/--to left out" in summary
    assert ns["stored"].height == 30
    assert ns["STORE"].name == "tutorial.duckdb"


def test_the_brief_says_what_the_text_says(executed: tuple[dict[str, Any], list[object]]) -> None:
    ns, _ = executed
    note = ns["note"]
    assert note.headline == "Alibaba jumped 6.2% to $155.74 on above-typical volume"
    assert f"*{note.headline}.*" in TEXT
    value = {row["name"]: row["value"] for row in ns["facts"].iter_rows(named=True)}
    assert round(value["close"], 2) == 155.74
    assert round(value["change_1d"], 4) == 0.0625
    assert round(value["rel_volume"], 1) == 1.4
    assert round(value["sma_200"], 2) == 137.00
    assert round(value["sma_50"], 2) == 159.36
    assert note.sheet.value("volume") == 15_778_300
    assert round(note.sheet.value("pct_vs_sma_200"), 3) == 0.137
    assert round(note.sheet.value("pct_vs_sma_50"), 3) == -0.023
    for words in ("155.74, 6.25%", "146.58, on 15,778,300", "1.4\ntimes", "137.00", "159.36"):
        assert words in TEXT, words
    saved = ns["__folder__"] / ns["saved"]
    assert saved.read_text(encoding="utf-8").startswith(f"# {note.headline}")


def test_the_study_and_the_screen_say_what_the_text_says(
    executed: tuple[dict[str, Any], list[object]],
) -> None:
    ns, values = executed
    study = ns["study"]
    assert "(287 of 555 occurrences meet the condition)" in study.label
    five = study.row(5)
    assert five["n"] == 258
    assert round(five["hit_rate"], 3) == 0.492
    assert round(five["base_hit_rate"], 3) == 0.525
    assert five["strength"] == "none"
    for words in ("287 of the 555", "5 sessions 258", "49.2%", "52.5%", "*none*"):
        assert words in " ".join(TEXT.split()), words
    found = ns["found"]
    assert found["ticker"].to_list() == ["BIDU", "BILI", "MU", "UUP"]
    assert "BIDU, BILI, MU and UUP" in " ".join(TEXT.split())
    assert found.summary().split("\n")[1] == "Session: 2026-01-02 (29 of 29 tickers traded)"
    assert values[CELLS.index(next(c for c in CELLS if "sb.screen(" in c))] is found


def test_the_frames_for_other_tools(executed: tuple[dict[str, Any], list[object]]) -> None:
    ns, values = executed
    bars = ns["bars"]
    assert list(bars.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert bars.index.name == "Date"
    assert [str(d.date()) for d in bars.index] == [
        "2025-12-29",
        "2025-12-30",
        "2025-12-31",
        "2026-01-02",
        "2026-01-05",
    ]
    shown: Any = values[-1]
    assert list(shown.columns) == ["date", "close", "sma_50", "sma_200", "rsi_14"]
    assert round(float(shown["sma_200"].iloc[-1]), 2) == 137.00
